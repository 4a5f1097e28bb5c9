SELECT region, UPPER(kind) AS kind_upper, COUNT(*) AS n, SUM(amount) + 1 AS total FROM orders GROUP BY 1, 2

SELECT region, upper(kind) AS kind_upper, count(*) AS n, sum(amount) + 1 AS total
FROM orders
GROUP BY ALL

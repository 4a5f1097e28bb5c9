SELECT count(*) AS n, max(amount) AS top FROM orders GROUP BY ALL

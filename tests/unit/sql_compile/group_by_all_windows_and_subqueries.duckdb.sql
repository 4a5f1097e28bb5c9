SELECT
    region,
    sum(count(*)) OVER () AS all_rows,
    (SELECT max(amount) FROM orders) AS top,
    coalesce(max(amount), 0) AS biggest,
    region || '!' AS shout
FROM orders
GROUP BY ALL
HAVING count(*) > 1

SELECT region, SUM(COUNT(*)) OVER () AS all_rows, (SELECT MAX(amount) FROM orders) AS top, COALESCE(MAX(amount), 0) AS biggest, region || '!' AS shout FROM orders GROUP BY 1, 5 HAVING COUNT(*) > 1

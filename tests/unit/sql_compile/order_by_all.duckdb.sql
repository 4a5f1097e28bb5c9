SELECT region, kind FROM orders ORDER BY ALL DESC

SELECT COUNT(*) AS n, MAX(amount) AS top FROM orders

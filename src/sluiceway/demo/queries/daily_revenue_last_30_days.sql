-- description: Revenue, orders and average order value for the data's last 30 days
WITH as_of AS (SELECT max(order_date) AS last_day FROM gold.daily_revenue)

SELECT
  d.order_date,
  d.orders,
  d.revenue_orders,
  d.revenue,
  d.average_order_value
FROM gold.daily_revenue AS d
CROSS JOIN as_of AS a
WHERE d.order_date > a.last_day - INTERVAL 30 DAY
ORDER BY d.order_date DESC

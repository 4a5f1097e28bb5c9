-- description: Revenue and revenue orders per shipping state and month, newest month first
SELECT
  order_month,
  shipping_state AS state,
  count(*) AS orders,
  CAST(sum(revenue) AS DECIMAL(14, 2)) AS revenue
FROM gold.fact_orders
WHERE is_revenue
GROUP BY order_month, shipping_state
ORDER BY order_month DESC, revenue DESC, state

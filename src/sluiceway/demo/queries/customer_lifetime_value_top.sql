-- description: The twenty customers with the highest lifetime revenue
SELECT
  customer_id,
  full_name,
  state,
  revenue_orders,
  lifetime_revenue,
  average_order_value,
  first_order_date,
  last_order_date
FROM gold.customer_lifetime_value
ORDER BY lifetime_revenue DESC, customer_id
LIMIT 20

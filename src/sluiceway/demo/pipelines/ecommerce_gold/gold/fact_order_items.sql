/*
description: One row per order line, with its order's customer, date and status, and its
  revenue (the line amount when the order counts as revenue).
materialized: table
checks:
  - {rule: unique, columns: [order_item_id], on_fail: fail}
  - {rule: foreign_key, column: order_id, references: gold.fact_orders.order_id, on_fail: fail}
*/
-- The order line fact, at the grain of one product in one order.
SELECT
  li.order_item_id,
  li.order_id,
  li.product_id,
  o.customer_id,
  o.order_date,
  o.order_month,
  o.status,
  o.is_revenue,
  li.quantity,
  li.unit_price,
  li.discount_rate,
  li.line_amount,
  CAST(CASE WHEN o.is_revenue THEN li.line_amount ELSE 0 END AS DECIMAL(14, 4)) AS revenue
FROM silver.order_items AS li
JOIN gold.fact_orders AS o ON o.order_id = li.order_id

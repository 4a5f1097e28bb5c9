/*
description: Each current customer's lifetime value - revenue orders, revenue, average order
  value, first and last order, refunds - zeros for customers who never bought.
materialized: table
checks:
  - {rule: unique, columns: [customer_id], on_fail: fail}
  - {rule: range, column: lifetime_revenue, min: 0, on_fail: fail}
*/
-- Historical customer lifetime value: what each customer has brought in so far.
WITH per_customer AS (
  SELECT
    customer_id,
    count(*) FILTER (WHERE is_revenue) AS revenue_orders,
    sum(revenue) AS lifetime_revenue,
    coalesce(sum(order_amount) FILTER (WHERE status = 'refunded'), 0) AS refunded_amount,
    min(order_date) FILTER (WHERE is_revenue) AS first_order_date,
    max(order_date) FILTER (WHERE is_revenue) AS last_order_date
  FROM gold.fact_orders
  WHERE customer_id IS NOT NULL
  GROUP BY customer_id
)

SELECT
  c.customer_id,
  c.full_name,
  c.state,
  c.signup_date,
  coalesce(p.revenue_orders, 0) AS revenue_orders,
  CAST(coalesce(p.lifetime_revenue, 0) AS DECIMAL(14, 2)) AS lifetime_revenue,
  -- Rounded half up in whole cents, the same in DuckDB and PostgreSQL (see daily_revenue).
  CAST(
    (2 * CAST(p.lifetime_revenue * 100 AS BIGINT) + p.revenue_orders)
    // nullif(2 * p.revenue_orders, 0) / 100
    AS DECIMAL(12, 2)
  ) AS average_order_value,
  CAST(coalesce(p.refunded_amount, 0) AS DECIMAL(14, 2)) AS refunded_amount,
  p.first_order_date,
  p.last_order_date
FROM gold.dim_customers AS c
LEFT JOIN per_customer AS p ON p.customer_id = c.customer_id
WHERE c.is_current

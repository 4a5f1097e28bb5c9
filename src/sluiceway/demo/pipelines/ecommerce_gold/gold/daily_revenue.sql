/*
description: Revenue per day of order - orders placed, orders that count as revenue, revenue,
  refunds, paying customers and the average order value.
materialized: table
checks:
  - {rule: unique, columns: [order_date], on_fail: fail}
  - {rule: range, column: revenue, min: 0, on_fail: fail}
*/
-- Rebuilt whole on every run, not incrementally: a late refund (drop 2) changes the revenue
-- of a day months back, further than any lookback window would reach.
SELECT
  order_date,
  count(*) AS orders,
  count(*) FILTER (WHERE is_revenue) AS revenue_orders,
  CAST(sum(revenue) AS DECIMAL(14, 2)) AS revenue,
  CAST(coalesce(sum(order_amount) FILTER (WHERE status = 'refunded'), 0) AS DECIMAL(14, 2))
    AS refunded_amount,
  count(DISTINCT customer_id) FILTER (WHERE is_revenue) AS paying_customers,
  -- Rounded half up in whole cents: DuckDB divides decimals as doubles (149.355 would come
  -- out as 149.35499... and round down), PostgreSQL exactly; in cents both agree.
  CAST(
    (2 * CAST(sum(revenue) * 100 AS BIGINT) + count(*) FILTER (WHERE is_revenue))
    // nullif(2 * count(*) FILTER (WHERE is_revenue), 0) / 100
    AS DECIMAL(12, 2)
  ) AS average_order_value
FROM gold.fact_orders
GROUP BY order_date

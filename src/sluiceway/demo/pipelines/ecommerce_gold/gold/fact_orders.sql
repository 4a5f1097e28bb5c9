/*
description: One row per order - its customer, dates, status, amount, revenue (the amount of a
  paid, shipped or delivered order), lines, units, what its lines add up to, and payments.
materialized: table
checks:
  - {rule: unique, columns: [order_id], on_fail: fail}
  - {rule: not_null, column: order_date, on_fail: fail}
  # The repaired quantities are right: every order's lines add up to its amount, to the cent
  # (drop 2's new orders come without their lines).
  - id: lines_add_up_to_amount
    rule: expression
    expression: lines_amount IS NULL OR lines_amount = order_amount
    on_fail: fail
  - id: revenue_is_amount_or_zero
    rule: expression
    expression: "revenue = CASE WHEN is_revenue THEN order_amount ELSE 0 END"
    on_fail: fail
*/
-- The order fact. Revenue counts orders that were paid and not taken back: pending and
-- cancelled orders never were, refunded ones were returned.
WITH lines AS (
  SELECT
    order_id,
    count(*) AS line_count,
    CAST(sum(quantity) AS BIGINT) AS units,
    CAST(round(sum(line_amount), 2) AS DECIMAL(14, 2)) AS lines_amount
  FROM silver.order_items
  GROUP BY order_id
),

paid AS (
  SELECT
    order_id,
    sum(amount) FILTER (WHERE status = 'captured') AS captured_amount,
    sum(amount) FILTER (WHERE status = 'refunded') AS refunded_amount
  FROM silver.payments
  GROUP BY order_id
)

SELECT
  o.order_id,
  o.customer_id,
  o.has_known_customer,
  o.order_ts,
  o.order_date,
  CAST(date_trunc('month', o.order_date) AS DATE) AS order_month,
  o.status,
  o.channel,
  o.shipping_state,
  o.order_amount,
  o.status IN ('paid', 'shipped', 'delivered') AS is_revenue,
  CAST(
    CASE WHEN o.status IN ('paid', 'shipped', 'delivered') THEN o.order_amount ELSE 0 END
    AS DECIMAL(12, 2)
  ) AS revenue,
  coalesce(l.line_count, 0) AS line_count,
  coalesce(l.units, 0) AS units,
  l.lines_amount,
  -- Casts outermost: PostgreSQL's coalesce with 0 drops the precision, and an unconstrained
  -- NUMERIC would reach the table as text.
  CAST(coalesce(p.captured_amount, 0) AS DECIMAL(14, 2)) AS captured_amount,
  CAST(coalesce(p.refunded_amount, 0) AS DECIMAL(14, 2)) AS refunded_amount,
  o.updated_at
FROM silver.orders AS o
LEFT JOIN lines AS l ON l.order_id = o.order_id
LEFT JOIN paid AS p ON p.order_id = o.order_id

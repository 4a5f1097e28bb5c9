/*
description: Payments once each (a payment event recorded twice keeps its first payment_id),
  with whether the amount matches the order's total.
materialized: table
checks:
  - {rule: unique, columns: [payment_id], on_fail: fail}
  - {rule: unique, columns: [order_id, status, amount, paid_at], on_fail: fail}
  - {rule: foreign_key, column: order_id, references: silver.orders.order_id, on_fail: fail}
  - {rule: accepted_values, column: status, values: [captured, failed, refunded], on_fail: fail}
  - rule: accepted_values
    column: method
    values: [card, paypal, bank_transfer, gift_card]
    on_fail: fail
  - {rule: range, column: amount, min: 0, on_fail: fail}
*/
-- Cleans bronze.payments. A duplicate (payments.duplicate_payment) is the same event - order,
-- status, amount, time - under a second payment_id. A mismatched amount
-- (payments.amount_mismatch) is what the processor recorded: it is kept and flagged, for
-- finance to chase, not corrected.
WITH events AS (
  SELECT
    payment_id,
    order_id,
    method,
    status,
    amount,
    currency,
    paid_at
  FROM bronze.payments
  WHERE payment_id IS NOT NULL
  QUALIFY row_number() OVER (
    PARTITION BY order_id, status, amount, paid_at ORDER BY payment_id
  ) = 1
)

SELECT
  e.payment_id,
  e.order_id,
  lower(trim(e.method)) AS method,
  lower(trim(e.status)) AS status,
  CAST(e.amount AS DECIMAL(12, 2)) AS amount,
  upper(trim(e.currency)) AS currency,
  -- In UTC without a zone, as the orders' timestamps are.
  e.paid_at AT TIME ZONE 'UTC' AS paid_at,
  CAST(e.amount AS DECIMAL(12, 2)) = o.order_amount AS matches_order_amount
FROM events AS e
JOIN silver.orders AS o ON o.order_id = e.order_id

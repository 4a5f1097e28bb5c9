-- description: Captured payments whose amount differs from their order's total, for finance
SELECT
  p.order_id,
  p.payment_id,
  p.paid_at,
  p.method,
  o.order_amount,
  p.amount AS paid_amount,
  p.amount - o.order_amount AS difference
FROM silver.payments AS p
JOIN gold.fact_orders AS o ON o.order_id = p.order_id
WHERE p.status = 'captured' AND NOT p.matches_order_amount
ORDER BY abs(p.amount - o.order_amount) DESC, p.order_id

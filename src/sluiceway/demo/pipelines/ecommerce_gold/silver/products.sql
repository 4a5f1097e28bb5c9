/*
description: The catalogue, trimmed; a price below zero or above 100,000 is NULL (and
  has_valid_price false), a missing category is 'unknown'.
materialized: table
checks:
  - {rule: unique, columns: [product_id], on_fail: fail}
  - {rule: not_null, column: product_id, on_fail: fail}
  - {rule: not_null, column: category, on_fail: fail}
  - {rule: range, column: price, min: 0, max: 100000, on_fail: fail}
  - id: invalid_price_is_null
    rule: expression
    expression: has_valid_price = (price IS NOT NULL)
    on_fail: fail
*/
-- Cleans bronze.products. A flipped sign or a misplaced decimal point cannot be repaired with
-- confidence, so the price is withheld rather than guessed; the product stays sellable (its
-- order lines carry their own unit_price).
SELECT
  product_id,
  trim(sku) AS sku,
  trim(name) AS product_name,
  coalesce(nullif(trim(category), ''), 'unknown') AS category,
  -- The cast wraps the CASE: PostgreSQL drops a branch's precision, and an unconstrained
  -- NUMERIC would reach the table as text.
  CAST(CASE WHEN price BETWEEN 0 AND 100000 THEN price END AS DECIMAL(12, 2)) AS price,
  coalesce(price BETWEEN 0 AND 100000, false) AS has_valid_price,
  CAST(cost AS DECIMAL(12, 2)) AS cost,
  weight_kg,
  active AS is_active,
  created_at
FROM bronze.products
WHERE product_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY created_at DESC) = 1

/*
description: Products with their category, price, cost and unit margin (NULL where the
  catalogue's price is not valid).
materialized: table
checks:
  - {rule: unique, columns: [product_id], on_fail: fail}
*/
-- The product dimension, one row per product.
SELECT
  product_id,
  sku,
  product_name,
  category,
  price,
  cost,
  CAST(price - cost AS DECIMAL(12, 2)) AS unit_margin,
  has_valid_price,
  weight_kg,
  is_active,
  created_at
FROM silver.products

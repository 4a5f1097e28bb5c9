/*
description: Order lines with positive quantities, exact line amounts, and the product NULL
  (has_known_product false) where the line names a product the catalogue does not have.
materialized: table
checks:
  - {rule: unique, columns: [order_item_id], on_fail: fail}
  - {rule: not_null, column: order_id, on_fail: fail}
  - {rule: foreign_key, column: order_id, references: silver.orders.order_id, on_fail: fail}
  - {rule: foreign_key, column: product_id, references: silver.products.product_id,
     on_fail: fail}
  - {rule: range, column: quantity, min: 1, on_fail: fail}
  - {rule: range, column: discount_rate, min: 0, max: 1, on_fail: fail}
  - id: unknown_product_flagged
    rule: expression
    expression: has_known_product = (product_id IS NOT NULL)
    on_fail: fail
depends_on: [silver.orders]
*/
-- Cleans bronze.order_items. A negative quantity is a sign flipped on the way: the order's
-- total was computed from the positive one, so its absolute value is the quantity. A line
-- whose product is unknown (order_items.orphan_product) still sold at its unit_price: it is
-- kept, and counts towards revenue, without a product.
SELECT
  li.order_item_id,
  li.order_id,
  p.product_id,
  p.product_id IS NOT NULL AS has_known_product,
  CAST(abs(li.quantity) AS INTEGER) AS quantity,
  CAST(li.unit_price AS DECIMAL(10, 2)) AS unit_price,
  CAST(li.discount AS DECIMAL(4, 2)) AS discount_rate,
  -- Exact to the hundredth of a cent: an order's lines add up to its total once rounded.
  CAST(
    abs(li.quantity) * CAST(li.unit_price AS DECIMAL(10, 2))
    * (1 - CAST(li.discount AS DECIMAL(4, 2)))
    AS DECIMAL(14, 4)
  ) AS line_amount
FROM bronze.order_items AS li
LEFT JOIN silver.products AS p ON p.product_id = li.product_id
WHERE li.order_item_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY li.order_item_id ORDER BY li.order_id) = 1

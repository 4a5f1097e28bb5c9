/*
description: One row per order, its latest version; two-letter shipping states; the customer
  resolved to the person (NULL, with has_known_customer false, when the order names none or one
  that does not exist).
materialized: table
checks:
  - {rule: unique, columns: [order_id], on_fail: fail}
  - {rule: not_null, column: order_id, on_fail: fail}
  - {rule: not_null, column: order_amount, on_fail: fail}
  - {rule: foreign_key, column: customer_id, references: silver.customers.customer_id,
     on_fail: fail}
  - id: unknown_customer_flagged
    rule: expression
    expression: has_known_customer = (customer_id IS NOT NULL)
    on_fail: fail
  - {rule: not_null, column: shipping_state, on_fail: fail}
  - rule: accepted_values
    column: shipping_state
    on_fail: fail
    values: [AL, AK, AZ, AR, CA, CO, CT, DE, DC, FL, GA, HI, ID, IL, IN, IA, KS, KY, LA, ME,
             MD, MA, MI, MN, MS, MO, MT, NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI,
             SC, SD, TN, TX, UT, VT, VA, WA, WV, WI, WY, AS, GU, MP, PR, VI]
  - rule: accepted_values
    column: status
    on_fail: fail
    values: [pending, paid, shipped, delivered, cancelled, refunded]
  - {rule: range, column: order_amount, min: 0, on_fail: fail}
depends_on: [silver.customers]
*/
-- Cleans bronze.orders. Orders whose customer is unknown (orders.orphan_customer,
-- orders.null_customer_id) are kept, flagged: the sale happened and its money is real, so
-- revenue counts it; only per-customer figures leave it out.
WITH latest AS (
  -- A row written twice (orders.exact_duplicate_rows) or updated by a later drop (a late
  -- refund): the newest version of each order wins.
  SELECT
    order_id,
    customer_id,
    order_ts,
    status,
    channel,
    currency,
    shipping_state,
    total_amount,
    updated_at
  FROM bronze.orders
  WHERE order_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC) = 1
)

SELECT
  o.order_id,
  i.person_id AS customer_id,
  i.person_id IS NOT NULL AS has_known_customer,
  o.order_ts,
  CAST(o.order_ts AS DATE) AS order_date,
  lower(trim(o.status)) AS status,
  lower(trim(o.channel)) AS channel,
  upper(trim(o.currency)) AS currency,
  s.state_code AS shipping_state,
  CAST(o.total_amount AS DECIMAL(12, 2)) AS order_amount,
  o.updated_at
FROM latest AS o
LEFT JOIN silver.customer_identities AS i ON i.customer_id = o.customer_id
LEFT JOIN silver.us_state_spellings AS s
  ON s.spelling_key = upper(regexp_replace(o.shipping_state, '[.\s]', '', 'g'))

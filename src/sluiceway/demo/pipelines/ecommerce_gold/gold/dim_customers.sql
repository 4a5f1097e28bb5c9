/*
description: Customers as SCD type 2 - every version of each customer, valid_from/valid_to by
  the source's updated_at, is_current on the latest; a run that sees a change adds a version.
materialized: scd2
unique_key: customer_id
scd2: {changed_at: updated_at}
checks:
  - {rule: unique, columns: [customer_id], on_fail: fail}
  - {rule: not_null, column: full_name, on_fail: fail}
*/
-- The customer dimension. Each run compares silver.customers with the current versions: a
-- customer whose attributes changed (drop 2 moves people, raises credit limits, adds a loyalty
-- tier) gets a new current version, and the old one is closed at the change's updated_at.
SELECT
  c.customer_id,
  c.first_name,
  c.last_name,
  c.first_name || ' ' || c.last_name AS full_name,
  c.email,
  c.phone,
  c.birth_date,
  c.signup_date,
  c.state,
  s.state_name,
  c.city,
  c.zip,
  c.is_active,
  c.credit_limit,
  c.loyalty_tier,
  c.updated_at
FROM silver.customers AS c
LEFT JOIN silver.us_state_spellings AS s ON s.spelling_key = c.state

/*
description: Every customer_id bronze has seen, mapped to the person's first registration.
materialized: table
checks:
  - {rule: unique, columns: [customer_id], on_fail: fail}
  - {rule: not_null, column: person_id, on_fail: fail}
  - id: person_is_own_first_registration
    rule: expression
    expression: person_id <= customer_id
    on_fail: fail
*/
-- One person registering twice gets a second customer_id, with the name and email typed in
-- another case or padded. A person is a birth date, a zip code and an email read without case
-- or padding (the rule ecommerce.yaml reports customers.near_duplicates with); every id of a
-- person maps to the smallest, the first registration. A blank email names no one: such a
-- row is only itself. Orders, events and silver.customers all resolve ids through this table.
WITH ids AS (
  -- An id written twice (an exact duplicate row, or sent again by a later drop): its newest.
  SELECT
    customer_id,
    birth_date,
    zip,
    nullif(lower(trim(email)), '') AS email_key
  FROM bronze.customers
  WHERE customer_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) = 1
)
SELECT
  customer_id,
  CASE
    WHEN email_key IS NULL THEN customer_id
    ELSE min(customer_id) OVER (PARTITION BY birth_date, zip, email_key)
  END AS person_id
FROM ids

/*
description: One row per person - trimmed, re-cased names; two-letter states; valid emails in
  lower case (else NULL); phones as +1 and ten digits (else NULL); plausible birth dates (else
  NULL); duplicates folded into the first registration.
materialized: table
checks:
  - {rule: unique, columns: [customer_id], on_fail: fail}
  - {rule: not_null, column: customer_id, on_fail: fail}
  - {rule: unique, columns: [email], on_fail: fail}
  - {rule: not_null, column: state, on_fail: fail}
  - rule: accepted_values
    column: state
    on_fail: fail
    values: [AL, AK, AZ, AR, CA, CO, CT, DE, DC, FL, GA, HI, ID, IL, IN, IA, KS, KY, LA, ME,
             MD, MA, MI, MN, MS, MO, MT, NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI,
             SC, SD, TN, TX, UT, VT, VA, WA, WV, WI, WY, AS, GU, MP, PR, VI]
  - {rule: format, column: email, format: email, on_fail: fail}
  - {id: email_lower_case, rule: expression, expression: email = lower(email), on_fail: fail}
  - {rule: regex, column: phone, pattern: '^\+1[0-9]{10}$', on_fail: fail}
  - id: names_capitalized
    rule: expression
    expression: >-
      regexp_matches(first_name, '^[A-Z][a-z]+$') AND regexp_matches(last_name, '^[A-Z][a-z]+$')
      AND regexp_matches(city, '^[A-Z][a-z.]+( [A-Z][a-z]+)*$')
    on_fail: fail
  - id: birth_date_plausible
    rule: expression
    expression: birth_date > DATE '1900-01-01' AND birth_date < signup_date
    column: birth_date
    on_fail: fail
  - {rule: accepted_values, column: loyalty_tier, values: [bronze, silver, gold, platinum]}
*/
-- Cleans bronze.customers into one trustworthy row per person.
WITH latest AS (
  -- An id written twice (customers.exact_duplicate_rows) keeps one row: its newest.
  SELECT
    c.customer_id,
    c.first_name,
    c.last_name,
    c.email,
    -- The second drop renames phone to phone_number and adds loyalty_tier. Read through the
    -- row as JSON, a column the table does not have (yet) is NULL instead of an error, so the
    -- model runs before and after that drop alike.
    coalesce(to_json(c) ->> 'phone_number', to_json(c) ->> 'phone') AS phone,
    to_json(c) ->> 'loyalty_tier' AS loyalty_tier,
    c.birth_date,
    c.signup_date,
    c.state,
    c.city,
    c.zip,
    c.is_active,
    c.credit_limit,
    c.updated_at
  FROM bronze.customers AS c
  WHERE c.customer_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY c.customer_id ORDER BY c.updated_at DESC) = 1
),

people AS (
  -- A second registration of a person (customers.near_duplicates) folds into the first.
  SELECT l.*
  FROM latest AS l
  JOIN silver.customer_identities AS i
    ON i.customer_id = l.customer_id AND i.person_id = l.customer_id
),

tidy AS (
  SELECT
    customer_id,
    trim(first_name) AS first_name,
    trim(last_name) AS last_name,
    lower(trim(email)) AS email,
    trim(phone) AS phone,
    trim(city) AS city,
    -- A state key as sluiceway.core.us_states.spelling_key makes it: upper case, no dots or
    -- whitespace ("Calif.", " california " and "ca" all find their code).
    upper(regexp_replace(state, '[.\s]', '', 'g')) AS state_key,
    birth_date,
    signup_date,
    zip,
    is_active,
    credit_limit,
    lower(trim(loyalty_tier)) AS loyalty_tier,
    updated_at
  FROM people
)

SELECT
  t.customer_id,
  upper(left(t.first_name, 1)) || lower(substr(t.first_name, 2)) AS first_name,
  upper(left(t.last_name, 1)) || lower(substr(t.last_name, 2)) AS last_name,
  -- The email format rule's pattern: anything else is no address at all.
  CASE
    WHEN regexp_matches(t.email, '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$')
      THEN t.email
  END AS email,
  -- A North American number, however it was typed, becomes +1 and its ten digits.
  CASE
    WHEN regexp_matches(
      t.phone, '^(\+?1[ .-]?)?(\([0-9]{3}\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}$'
    )
      THEN '+1' || right(regexp_replace(t.phone, '[^0-9]', '', 'g'), 10)
  END AS phone,
  -- Nobody signs up before being born, and 1900-01-01 is the usual "unknown" placeholder.
  CASE
    WHEN t.birth_date > DATE '1900-01-01' AND t.birth_date < t.signup_date THEN t.birth_date
  END AS birth_date,
  t.signup_date,
  s.state_code AS state,
  -- Each word capitalized, for up to three words (DuckDB has no initcap); a longer name, which
  -- the demo's cities never are, is kept as typed and the names_capitalized check judges it.
  CASE
    WHEN length(t.city) - length(replace(t.city, ' ', '')) > 2 THEN t.city
    ELSE concat_ws(
      ' ',
      upper(left(split_part(t.city, ' ', 1), 1)) || lower(substr(split_part(t.city, ' ', 1), 2)),
      nullif(
        upper(left(split_part(t.city, ' ', 2), 1)) || lower(substr(split_part(t.city, ' ', 2), 2)),
        ''
      ),
      nullif(
        upper(left(split_part(t.city, ' ', 3), 1)) || lower(substr(split_part(t.city, ' ', 3), 2)),
        ''
      )
    )
  END AS city,
  t.zip,
  t.is_active,
  CAST(t.credit_limit AS DECIMAL(12, 2)) AS credit_limit,
  t.loyalty_tier,
  t.updated_at
FROM tidy AS t
LEFT JOIN silver.us_state_spellings AS s ON s.spelling_key = t.state_key

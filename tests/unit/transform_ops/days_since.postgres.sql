WITH "_op0_days_since" AS (
  SELECT
    "customer",
    "name",
    "tier",
    "birth_date",
    "signup",
    "address",
    "profile",
    CAST(CAST('2024-07-01' AS DATE) - CAST("signup" AS DATE) AS BIGINT) AS "days_since_signup"
  FROM "customers"
), "_op1_days_since" AS (
  SELECT
    "customer",
    "name",
    "tier",
    "birth_date",
    "signup",
    "address",
    "profile",
    "days_since_signup",
    CAST(CAST('2024-07-01' AS DATE) - CAST("birth_date" AS DATE) AS BIGINT) AS "days_alive"
  FROM "_op0_days_since"
)
SELECT
  "customer",
  "days_since_signup",
  "days_alive"
FROM "_op1_days_since"

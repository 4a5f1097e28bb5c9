WITH "_op0_age" AS (
  SELECT
    "customer",
    "name",
    "tier",
    "birth_date",
    "signup",
    "address",
    "profile",
    CAST(EXTRACT(YEAR FROM CAST('2024-06-30' AS DATE)) - EXTRACT(YEAR FROM CAST("birth_date" AS DATE)) - CASE
      WHEN EXTRACT(MONTH FROM CAST('2024-06-30' AS DATE)) * 100 + EXTRACT(DAY FROM CAST('2024-06-30' AS DATE)) < EXTRACT(MONTH FROM CAST("birth_date" AS DATE)) * 100 + EXTRACT(DAY FROM CAST("birth_date" AS DATE))
      THEN 1
      ELSE 0
    END AS INT) AS "age"
  FROM "customers"
)
SELECT
  "customer",
  "birth_date",
  "age"
FROM "_op0_age"

WITH "_op0_filter" AS (
  SELECT
    *
  FROM "orders"
  WHERE
    (
      NOT amount IS NULL
    )
), "_op1_derive" AS (
  SELECT
    *,
    amount * 0.92 AS "amount_eur"
  FROM "_op0_filter"
), "_op2_days_since" AS (
  SELECT
    *,
    CAST(CAST('2024-07-01' AS DATE) - CAST("order_day" AS DATE) AS BIGINT) AS "age_days"
  FROM "_op1_derive"
), "_op3_dedupe" AS (
  SELECT DISTINCT ON ("customer")
    *
  FROM "_op2_days_since"
  ORDER BY
    "customer" ASC,
    "ordered_at" DESC NULLS LAST,
    "id" ASC
)
SELECT
  "region",
  SUM("amount_eur") AS "eur",
  MAX("age_days") AS "oldest"
FROM "_op3_dedupe"
GROUP BY
  "region"

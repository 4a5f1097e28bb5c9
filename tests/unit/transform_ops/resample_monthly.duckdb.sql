WITH "_op0_buckets" AS (
  SELECT
    DATE_TRUNC('MONTH', CAST("order_day" AS TIMESTAMP)) AS "order_day",
    SUM("amount") AS "revenue"
  FROM "orders"
  WHERE
    NOT "order_day" IS NULL
  GROUP BY
    DATE_TRUNC('MONTH', CAST("order_day" AS TIMESTAMP))
), "_op0_bounds" AS (
  SELECT
    DATE_TRUNC('MONTH', CAST(CAST('2023-12-01' AS DATE) AS TIMESTAMP)) AS "lo",
    DATE_TRUNC('MONTH', CAST(CAST('2024-07-31' AS DATE) AS TIMESTAMP)) AS "hi"
), "_op0_spine" AS (
  SELECT
    "s"."order_day"
  FROM "_op0_bounds" AS "b", GENERATE_SERIES("b"."lo", "b"."hi", INTERVAL '1' MONTH) AS "s"("order_day")
)
SELECT
  CAST("s"."order_day" AS DATE) AS "order_day",
  "a"."revenue" AS "revenue"
FROM "_op0_spine" AS "s"
LEFT JOIN "_op0_buckets" AS "a"
  ON "s"."order_day" IS NOT DISTINCT FROM "a"."order_day"

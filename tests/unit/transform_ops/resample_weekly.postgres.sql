WITH "_op0_buckets" AS (
  SELECT
    DATE_BIN(INTERVAL '1 WEEK', CAST("ts" AS TIMESTAMP), CAST('2000-01-03 00:00:00' AS TIMESTAMP)) AS "ts",
    COUNT("value") AS "readings"
  FROM "readings"
  WHERE
    NOT "ts" IS NULL
  GROUP BY
    DATE_BIN(INTERVAL '1 WEEK', CAST("ts" AS TIMESTAMP), CAST('2000-01-03 00:00:00' AS TIMESTAMP))
), "_op0_bounds" AS (
  SELECT
    DATE_BIN(
      INTERVAL '1 WEEK',
      CAST(CAST('2023-12-20' AS DATE) AS TIMESTAMP),
      CAST('2000-01-03 00:00:00' AS TIMESTAMP)
    ) AS "lo",
    MAX("ts") AS "hi"
  FROM "_op0_buckets"
), "_op0_spine" AS (
  SELECT
    "s"."ts"
  FROM "_op0_bounds" AS "b", GENERATE_SERIES("b"."lo", "b"."hi", INTERVAL '1 WEEK') AS "s"("ts")
)
SELECT
  "s"."ts" AS "ts",
  "a"."readings" AS "readings"
FROM "_op0_spine" AS "s"
LEFT JOIN "_op0_buckets" AS "a"
  ON "s"."ts" IS NOT DISTINCT FROM "a"."ts"

WITH "_op0_buckets" AS (
  SELECT
    "sensor",
    DATE_BIN(INTERVAL '1 DAY', CAST("ts" AS TIMESTAMP), CAST('2000-01-03 00:00:00' AS TIMESTAMP)) AS "ts",
    SUM("value") AS "total",
    COUNT(*) AS "n"
  FROM "readings"
  WHERE
    NOT "ts" IS NULL
  GROUP BY
    "sensor",
    DATE_BIN(INTERVAL '1 DAY', CAST("ts" AS TIMESTAMP), CAST('2000-01-03 00:00:00' AS TIMESTAMP))
), "_op0_bounds" AS (
  SELECT
    "sensor",
    MIN("ts") AS "lo",
    MAX("ts") AS "hi"
  FROM "_op0_buckets"
  GROUP BY
    "sensor"
), "_op0_spine" AS (
  SELECT
    "b"."sensor",
    "s"."ts"
  FROM "_op0_bounds" AS "b", GENERATE_SERIES("b"."lo", "b"."hi", INTERVAL '1 DAY') AS "s"("ts")
)
SELECT
  "s"."sensor",
  "s"."ts" AS "ts",
  COALESCE("a"."total", 0) AS "total",
  COALESCE("a"."n", 0) AS "n"
FROM "_op0_spine" AS "s"
LEFT JOIN "_op0_buckets" AS "a"
  ON "s"."sensor" IS NOT DISTINCT FROM "a"."sensor"
  AND "s"."ts" IS NOT DISTINCT FROM "a"."ts"

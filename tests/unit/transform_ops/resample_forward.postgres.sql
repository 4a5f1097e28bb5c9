WITH "_op0_buckets" AS (
  SELECT
    "sensor",
    DATE_BIN(
      INTERVAL '12 HOUR',
      CAST("ts" AS TIMESTAMP),
      CAST('2000-01-03 00:00:00' AS TIMESTAMP)
    ) AS "ts",
    MAX("value") AS "last_max",
    AVG("value") AS "mean"
  FROM "readings"
  WHERE
    NOT "ts" IS NULL
  GROUP BY
    "sensor",
    DATE_BIN(
      INTERVAL '12 HOUR',
      CAST("ts" AS TIMESTAMP),
      CAST('2000-01-03 00:00:00' AS TIMESTAMP)
    )
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
  FROM "_op0_bounds" AS "b", GENERATE_SERIES("b"."lo", "b"."hi", INTERVAL '12 HOUR') AS "s"("ts")
), "_op0_joined" AS (
  SELECT
    "s"."sensor",
    "s"."ts",
    "a"."last_max",
    COUNT("a"."last_max") OVER (
      PARTITION BY "s"."sensor"
      ORDER BY "s"."ts" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "_run_last_max",
    "a"."mean",
    COUNT("a"."mean") OVER (
      PARTITION BY "s"."sensor"
      ORDER BY "s"."ts" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "_run_mean"
  FROM "_op0_spine" AS "s"
  LEFT JOIN "_op0_buckets" AS "a"
    ON "s"."sensor" IS NOT DISTINCT FROM "a"."sensor"
    AND "s"."ts" IS NOT DISTINCT FROM "a"."ts"
)
SELECT
  "f"."sensor",
  "f"."ts" AS "ts",
  MAX("f"."last_max") OVER (PARTITION BY "f"."sensor", "f"."_run_last_max") AS "last_max",
  MAX("f"."mean") OVER (PARTITION BY "f"."sensor", "f"."_run_mean") AS "mean"
FROM "_op0_joined" AS "f"

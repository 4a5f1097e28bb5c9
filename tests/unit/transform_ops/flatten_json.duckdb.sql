WITH "_op0_select" AS (
  SELECT
    "customer",
    "profile"
  FROM "customers"
)
SELECT
  "customer",
  JSON_EXTRACT_STRING(CAST("profile" AS JSON), '$.plan') AS "plan",
  CAST(JSON_EXTRACT_STRING(CAST("profile" AS JSON), '$.stats.visits') AS INT) AS "visits",
  CAST(JSON_EXTRACT_STRING(CAST("profile" AS JSON), '$.stats.score') AS DOUBLE) AS "score",
  JSON_EXTRACT_STRING(CAST("profile" AS JSON), '$.tags[0]') AS "first_tag"
FROM "_op0_select"

WITH "_op0_select" AS (
  SELECT
    "customer",
    "profile"
  FROM "customers"
)
SELECT
  "customer",
  JSONB_EXTRACT_PATH_TEXT(CAST("profile" AS JSONB), 'plan') AS "plan",
  CAST(JSONB_EXTRACT_PATH_TEXT(CAST("profile" AS JSONB), 'stats', 'visits') AS INT) AS "visits",
  CAST(JSONB_EXTRACT_PATH_TEXT(CAST("profile" AS JSONB), 'stats', 'score') AS DOUBLE PRECISION) AS "score",
  JSONB_EXTRACT_PATH_TEXT(CAST("profile" AS JSONB), 'tags', '0') AS "first_tag"
FROM "_op0_select"

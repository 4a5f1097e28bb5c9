WITH "_op0_select" AS (
  SELECT
    "customer",
    "address"
  FROM "customers"
), "_op1_flatten" AS (
  SELECT
    "customer",
    "address",
    CAST(JSONB_EXTRACT_PATH_TEXT("address", 'city') AS TEXT) AS "city",
    CAST(JSONB_EXTRACT_PATH_TEXT("address", 'zip') AS TEXT) AS "zip",
    JSONB_EXTRACT_PATH("address", 'geo') AS "geo"
  FROM "_op0_select"
)
SELECT
  "customer",
  "city",
  "zip"
FROM "_op1_flatten"

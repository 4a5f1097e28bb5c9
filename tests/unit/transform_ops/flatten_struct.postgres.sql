WITH "_op0_select" AS (
  SELECT
    "customer",
    "address"
  FROM "customers"
)
SELECT
  "customer",
  CAST(JSONB_EXTRACT_PATH_TEXT("address", 'city') AS TEXT) AS "address_city",
  CAST(JSONB_EXTRACT_PATH_TEXT("address", 'zip') AS TEXT) AS "address_zip",
  CAST(JSONB_EXTRACT_PATH_TEXT("address", 'geo', 'lat') AS DOUBLE PRECISION) AS "address_geo_lat",
  CAST(JSONB_EXTRACT_PATH_TEXT("address", 'geo', 'lon') AS DOUBLE PRECISION) AS "address_geo_lon"
FROM "_op0_select"

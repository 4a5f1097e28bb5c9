WITH "_op0_select" AS (
  SELECT
    "customer",
    "address"
  FROM "customers"
), "_op1_flatten" AS (
  SELECT
    "customer",
    "address",
    CAST(STRUCT_EXTRACT("address", 'city') AS TEXT) AS "city",
    CAST(STRUCT_EXTRACT("address", 'zip') AS TEXT) AS "zip",
    STRUCT_EXTRACT("address", 'geo') AS "geo"
  FROM "_op0_select"
)
SELECT
  "customer",
  "city",
  "zip"
FROM "_op1_flatten"

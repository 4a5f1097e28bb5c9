WITH "_op0_select" AS (
  SELECT
    "customer",
    "address"
  FROM "customers"
)
SELECT
  "customer",
  CAST(STRUCT_EXTRACT("address", 'city') AS TEXT) AS "address_city",
  CAST(STRUCT_EXTRACT("address", 'zip') AS TEXT) AS "address_zip",
  CAST(STRUCT_EXTRACT(STRUCT_EXTRACT("address", 'geo'), 'lat') AS DOUBLE) AS "address_geo_lat",
  CAST(STRUCT_EXTRACT(STRUCT_EXTRACT("address", 'geo'), 'lon') AS DOUBLE) AS "address_geo_lon"
FROM "_op0_select"

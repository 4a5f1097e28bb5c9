SELECT
  COUNT(*) AS "n",
  SUM("qty") AS "units",
  MEDIAN("qty") AS "middle"
FROM "orders"

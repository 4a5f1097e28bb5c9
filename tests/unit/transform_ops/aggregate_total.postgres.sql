SELECT
  COUNT(*) AS "n",
  SUM("qty") AS "units",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "qty") AS "middle"
FROM "orders"

SELECT
  "region",
  COUNT(*) AS "n",
  COUNT("amount") AS "amounts",
  COUNT(DISTINCT "customer") AS "customers",
  SUM("amount") AS "total",
  AVG("amount") AS "mean",
  MIN("amount") AS "smallest",
  MAX("ordered_at") AS "largest",
  MEDIAN("amount") AS "middle",
  STDDEV_SAMP("amount") AS "spread",
  QUANTILE_CONT("amount", 0.9) AS "p90",
  QUANTILE_DISC("qty", 0.25) AS "p25_disc"
FROM "orders"
GROUP BY
  "region"

SELECT
  "region",
  COUNT(*) AS "n",
  COUNT("amount") AS "amounts",
  COUNT(DISTINCT "customer") AS "customers",
  SUM("amount") AS "total",
  AVG("amount") AS "mean",
  MIN("amount") AS "smallest",
  MAX("ordered_at") AS "largest",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "amount") AS "middle",
  STDDEV_SAMP("amount") AS "spread",
  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    "amount") AS "p90",
  PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY
    "qty") AS "p25_disc"
FROM "orders"
GROUP BY
  "region"

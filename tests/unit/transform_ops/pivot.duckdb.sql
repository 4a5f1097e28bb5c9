SELECT
  "region",
  SUM("amount") FILTER(WHERE
    "status" = 'paid') AS "paid",
  SUM("amount") FILTER(WHERE
    "status" = 'refunded') AS "refunded",
  SUM("amount") FILTER(WHERE
    "status" = 'pending') AS "pending"
FROM "orders"
GROUP BY
  "region"

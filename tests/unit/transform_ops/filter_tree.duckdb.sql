SELECT
  *
FROM "orders"
WHERE
  "status" IN ('paid', 'refunded')
  AND (
    "amount" BETWEEN 10 AND 60 OR "channel" IS NULL OR (
      qty >= 7
    )
  )
  AND NOT (
    "customer" LIKE 'b%'
  )
  AND "ordered_at" < CAST('2024-05-01 00:00:00' AS TIMESTAMP)

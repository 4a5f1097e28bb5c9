SELECT
  *
FROM "orders"
WHERE
  (
    "region" = 'west'
    OR "qty" >= 10
    OR (
      NOT "channel" IS NULL AND "channel" <> 'web' AND NOT "customer" IN ('eve')
    )
    OR "order_day" = CAST('2024-03-15' AS DATE)
    OR "status" ILIKE 'PEND%'
  )

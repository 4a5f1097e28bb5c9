SELECT
  "id",
  "customer",
  "status",
  "region",
  CAST("amount" AS DECIMAL(10, 2)) AS "amount",
  CAST("qty" AS DOUBLE) AS "qty",
  "ordered_at",
  CAST("order_day" AS TEXT) AS "order_day",
  "channel"
FROM "orders"

SELECT
  "id" AS "order_id",
  "customer",
  "status",
  "region",
  "amount" AS "total",
  "qty",
  "ordered_at",
  "order_day",
  "channel"
FROM "orders"

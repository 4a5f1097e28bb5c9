SELECT
  "id",
  "customer",
  "status",
  "region",
  "amount",
  "qty",
  "ordered_at"
FROM "orders"

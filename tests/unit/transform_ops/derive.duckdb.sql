SELECT
  "id",
  "customer",
  UPPER(status) AS "status",
  "region",
  "amount",
  "qty",
  "ordered_at",
  "order_day",
  "channel",
  amount * 0.8 AS "net",
  COALESCE(amount, 0) > 50 AS "big",
  customer || '-' || CAST(id AS TEXT) AS "label"
FROM "orders"

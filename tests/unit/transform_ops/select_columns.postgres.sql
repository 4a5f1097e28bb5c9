SELECT
  "id",
  "customer",
  "amount"
FROM "orders"

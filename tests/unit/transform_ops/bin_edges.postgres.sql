WITH "_op0_bin" AS (
  SELECT
    "id",
    "customer",
    "status",
    "region",
    "amount",
    "qty",
    "ordered_at",
    "order_day",
    "channel",
    CASE
      WHEN "amount" < 10
      THEN 'small'
      WHEN "amount" >= 10 AND "amount" < 50
      THEN 'medium'
      WHEN "amount" >= 50
      THEN 'large'
    END AS "size"
  FROM "orders"
), "_op1_bin" AS (
  SELECT
    "id",
    "customer",
    "status",
    "region",
    "amount",
    "qty",
    "ordered_at",
    "order_day",
    "channel",
    "size",
    CASE
      WHEN "qty" > 0 AND "qty" <= 2
      THEN 1
      WHEN "qty" > 2 AND "qty" <= 5
      THEN 2
      WHEN "qty" > 5 AND "qty" <= 10
      THEN 3
    END AS "qty_bin"
  FROM "_op0_bin"
)
SELECT
  "id",
  "amount",
  "size",
  "qty",
  "qty_bin"
FROM "_op1_bin"

WITH "_op0_window" AS (
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
    RANK() OVER (ORDER BY "amount" DESC) AS "amount_rank",
    DENSE_RANK() OVER (ORDER BY "amount" DESC) AS "amount_dense"
  FROM "orders"
), "_op1_window" AS (
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
    "amount_rank",
    "amount_dense",
    NTILE(4) OVER (ORDER BY "amount" DESC, "id" ASC) AS "quartile"
  FROM "_op0_window"
), "_op2_window" AS (
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
    "amount_rank",
    "amount_dense",
    "quartile",
    RANK() OVER (PARTITION BY "region") AS "everyone"
  FROM "_op1_window"
)
SELECT
  "id",
  "customer",
  "region",
  "amount",
  "qty",
  "amount_rank",
  "amount_dense",
  "quartile",
  "everyone"
FROM "_op2_window"

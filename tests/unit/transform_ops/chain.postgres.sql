WITH "_op0_filter" AS (
  SELECT
    *
  FROM "orders"
  WHERE
    "status" = 'paid'
), "_op1_derive" AS (
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
    CAST(amount * 0.8 AS DECIMAL(10, 2)) AS "net"
  FROM "_op0_filter"
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
    "net",
    ROW_NUMBER() OVER (PARTITION BY "region" ORDER BY "net" DESC NULLS LAST, "id" ASC) AS "place"
  FROM "_op1_derive"
), "_op3_filter" AS (
  SELECT
    *
  FROM "_op2_window"
  WHERE
    "place" <= 2
), "_op4_rename" AS (
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
    "net",
    "place" AS "region_rank"
  FROM "_op3_filter"
)
SELECT
  "region",
  "region_rank",
  "id",
  "net"
FROM "_op4_rename"

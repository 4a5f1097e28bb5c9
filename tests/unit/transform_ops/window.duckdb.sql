WITH "_op0_filter" AS (
  SELECT
    *
  FROM "orders"
  WHERE
    NOT "ordered_at" IS NULL
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
    ROW_NUMBER() OVER (PARTITION BY "customer" ORDER BY "ordered_at" ASC, "id" DESC) AS "n",
    LAG("amount", 1, 0) OVER (PARTITION BY "customer" ORDER BY "ordered_at" ASC, "id" DESC) AS "previous",
    LAG("amount", 2) OVER (PARTITION BY "customer" ORDER BY "ordered_at" ASC, "id" DESC) AS "two_back",
    LEAD("order_day", 1) OVER (PARTITION BY "customer" ORDER BY "ordered_at" ASC, "id" DESC) AS "next_day",
    SUM("amount") OVER (
      PARTITION BY "customer"
      ORDER BY "ordered_at" ASC, "id" DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "running",
    AVG("amount") OVER (
      PARTITION BY "customer"
      ORDER BY "ordered_at" ASC, "id" DESC
      ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
    ) AS "moving"
  FROM "_op0_filter"
)
SELECT
  "id",
  "customer",
  "n",
  "previous",
  "two_back",
  "next_day",
  "running",
  "moving"
FROM "_op1_window"

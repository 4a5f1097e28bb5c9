WITH "_op0_join" AS (
  SELECT
    "l"."id",
    "l"."customer",
    "l"."status",
    "l"."region",
    "l"."amount",
    "l"."qty",
    "l"."ordered_at",
    "l"."order_day",
    "l"."channel",
    "r"."tier" AS "c_tier"
  FROM "orders" AS "l"
  INNER JOIN "customers" AS "r"
    ON "l"."customer" = "r"."customer"
), "_op1_select" AS (
  SELECT
    "id",
    "c_tier"
  FROM "_op0_join"
)
SELECT
  "l"."id",
  "l"."c_tier",
  "r"."status" AS "orders_status"
FROM "_op1_select" AS "l"
RIGHT JOIN "orders" AS "r"
  ON "l"."id" = "r"."id"

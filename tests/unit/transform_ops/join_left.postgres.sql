WITH "_op0_select" AS (
  SELECT
    "id",
    "customer",
    "amount"
  FROM "orders"
)
SELECT
  "l"."id",
  "l"."customer",
  "l"."amount",
  "r"."name" AS "customers_name",
  "r"."tier" AS "customers_tier"
FROM "_op0_select" AS "l"
LEFT JOIN "customers" AS "r"
  ON "l"."customer" = "r"."customer"

WITH "_op0_aggregate" AS (
  SELECT
    "customer",
    COUNT(*) AS "orders"
  FROM "orders"
  GROUP BY
    "customer"
)
SELECT
  COALESCE("l"."customer", "r"."customer") AS "customer",
  "l"."orders",
  "r"."tier" AS "customer_tier"
FROM "_op0_aggregate" AS "l"
FULL JOIN "customers" AS "r"
  ON "l"."customer" = "r"."customer"

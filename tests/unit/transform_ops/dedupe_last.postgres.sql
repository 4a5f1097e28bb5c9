WITH "_op0_dedupe" AS (
  SELECT DISTINCT ON ("customer")
    *
  FROM "orders"
  ORDER BY
    "customer" ASC,
    "ordered_at" DESC NULLS LAST,
    "id" DESC NULLS LAST
)
SELECT
  "customer",
  "id"
FROM "_op0_dedupe"

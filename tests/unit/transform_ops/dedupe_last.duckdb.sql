WITH "_op0_dedupe" AS (
  SELECT DISTINCT ON ("customer")
    *
  FROM "orders"
  ORDER BY
    "customer" ASC,
    "ordered_at" DESC,
    "id" DESC
)
SELECT
  "customer",
  "id"
FROM "_op0_dedupe"

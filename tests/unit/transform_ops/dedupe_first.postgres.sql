WITH "_op0_dedupe" AS (
  SELECT DISTINCT ON ("region")
    *
  FROM "orders"
  ORDER BY
    "region" ASC,
    "amount" DESC NULLS LAST,
    "id" ASC
)
SELECT
  "region",
  "id",
  "amount"
FROM "_op0_dedupe"

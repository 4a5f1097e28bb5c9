WITH "_op0_rfm" AS (
  SELECT
    "customer",
    CAST(CAST('2024-07-01' AS DATE) - MAX(CAST("ordered_at" AS DATE)) AS BIGINT) AS "recency",
    COUNT(*) AS "frequency",
    SUM("amount") AS "monetary"
  FROM "orders"
  GROUP BY
    "customer"
), "_op0_rfm_scores" AS (
  SELECT
    "customer",
    "recency",
    "frequency",
    "monetary",
    NTILE(3) OVER (ORDER BY "recency" DESC, MD5(CAST("customer" AS TEXT)) ASC) AS "r_score",
    NTILE(3) OVER (ORDER BY "frequency" ASC NULLS FIRST, MD5(CAST("customer" AS TEXT)) ASC) AS "f_score",
    NTILE(3) OVER (ORDER BY "monetary" ASC NULLS FIRST, MD5(CAST("customer" AS TEXT)) ASC) AS "m_score"
  FROM "_op0_rfm"
)
SELECT
  "customer",
  "recency",
  "frequency",
  "monetary",
  "r_score",
  "f_score",
  "m_score",
  CAST("r_score" AS TEXT) || CAST("f_score" AS TEXT) || CAST("m_score" AS TEXT) AS "rfm_segment"
FROM "_op0_rfm_scores"

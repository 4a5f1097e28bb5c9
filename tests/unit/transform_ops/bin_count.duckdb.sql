WITH "_op0_bin" AS (
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
    CASE
      WHEN CAST(MAX("amount") OVER () AS DOUBLE) = CAST(MIN("amount") OVER () AS DOUBLE)
      THEN 1
      WHEN CAST("amount" AS DOUBLE) = CAST(MAX("amount") OVER () AS DOUBLE)
      THEN 4
      ELSE CAST(FLOOR(
        (
          CAST("amount" AS DOUBLE) - CAST(MIN("amount") OVER () AS DOUBLE)
        ) / (
          CAST(MAX("amount") OVER () AS DOUBLE) - CAST(MIN("amount") OVER () AS DOUBLE)
        ) * 4
      ) AS INT) + 1
    END AS "amount_bin"
  FROM "orders"
), "_op1_bin" AS (
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
    "amount_bin",
    CASE CASE
        WHEN CAST(MAX("qty") OVER () AS DOUBLE) = CAST(MIN("qty") OVER () AS DOUBLE)
        THEN 1
        WHEN CAST("qty" AS DOUBLE) = CAST(MIN("qty") OVER () AS DOUBLE)
        THEN 1
        ELSE CAST(CEIL(
          (
            CAST("qty" AS DOUBLE) - CAST(MIN("qty") OVER () AS DOUBLE)
          ) / (
            CAST(MAX("qty") OVER () AS DOUBLE) - CAST(MIN("qty") OVER () AS DOUBLE)
          ) * 3
        ) AS INT)
      END
      WHEN 1
      THEN 'low'
      WHEN 2
      THEN 'mid'
      WHEN 3
      THEN 'high'
    END AS "qty_level"
  FROM "_op0_bin"
)
SELECT
  "id",
  "amount",
  "amount_bin",
  "qty",
  "qty_level"
FROM "_op1_bin"

SELECT
  "id",
  CASE WHEN TRIM("n") ~ '^[+-]?[0-9]+$' THEN CAST(TRIM("n") AS INT) END AS "n",
  CASE
    WHEN TRIM("x") ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
    THEN CAST(TRIM("x") AS DOUBLE PRECISION)
  END AS "x",
  CASE
    WHEN TRIM("d") ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
    THEN CAST(TRIM("d") AS DATE)
  END AS "d",
  CASE
    WHEN TRIM("ts") ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$'
    THEN CAST(TRIM("ts") AS TIMESTAMP)
  END AS "ts",
  CASE
    WHEN LOWER(TRIM("b")) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', '1', '0')
    THEN CAST(TRIM("b") AS BOOLEAN)
  END AS "b"
FROM "raw_text"

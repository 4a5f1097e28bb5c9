SELECT
  "id",
  CASE
    WHEN REGEXP_MATCHES(TRIM("n"), '^[+-]?[0-9]+$')
    THEN TRY_CAST(TRIM("n") AS INT)
  END AS "n",
  CASE
    WHEN REGEXP_MATCHES(TRIM("x"), '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$')
    THEN TRY_CAST(TRIM("x") AS DOUBLE)
  END AS "x",
  CASE
    WHEN REGEXP_MATCHES(TRIM("d"), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
    THEN TRY_CAST(TRIM("d") AS DATE)
  END AS "d",
  CASE
    WHEN REGEXP_MATCHES(
      TRIM("ts"),
      '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$'
    )
    THEN TRY_CAST(TRIM("ts") AS TIMESTAMP)
  END AS "ts",
  CASE
    WHEN LOWER(TRIM("b")) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', '1', '0')
    THEN TRY_CAST(TRIM("b") AS BOOLEAN)
  END AS "b"
FROM "raw_text"

SELECT
  "t"."store",
  "u"."name",
  "u"."value"
FROM "sales_wide" AS "t"
CROSS JOIN LATERAL (
  VALUES
    ('jan', CAST("t"."jan" AS DOUBLE)),
    ('feb', CAST("t"."feb" AS DOUBLE)),
    ('mar', CAST("t"."mar" AS DOUBLE))
) AS "u"("name", "value")

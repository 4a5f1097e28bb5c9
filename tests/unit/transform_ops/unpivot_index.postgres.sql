SELECT
  "t"."store",
  "u"."name",
  "u"."value"
FROM "sales_wide" AS "t"
CROSS JOIN LATERAL (
  VALUES
    ('jan', CAST("t"."jan" AS DOUBLE PRECISION)),
    ('feb', CAST("t"."feb" AS DOUBLE PRECISION)),
    ('mar', CAST("t"."mar" AS DOUBLE PRECISION))
) AS "u"("name", "value")

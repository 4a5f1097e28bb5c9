SELECT
  "t"."store",
  "u"."month",
  "u"."units"
FROM "sales_wide" AS "t"
CROSS JOIN LATERAL (
  VALUES
    ('jan', "t"."jan"),
    ('feb', "t"."feb"),
    ('mar', "t"."mar")
) AS "u"("month", "units")
WHERE
  NOT "u"."units" IS NULL

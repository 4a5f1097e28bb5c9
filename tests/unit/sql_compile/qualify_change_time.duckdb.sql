CREATE TABLE "_sluiceway_staging"."dim__inc0" AS
SELECT s."k", s."ts", s."v", coalesce(s."ts", CAST($now AS TIMESTAMP_NS)) AS __vf
FROM "_sluiceway_staging"."dim" AS s
QUALIFY row_number() OVER (
    PARTITION BY s."k", coalesce(s."ts", CAST($now AS TIMESTAMP_NS))
    ORDER BY s."__sluiceway_seq" DESC
) = 1

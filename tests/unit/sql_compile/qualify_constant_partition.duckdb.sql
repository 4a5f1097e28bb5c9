CREATE TABLE "_sluiceway_staging"."dim__inc0" AS
SELECT s."k", s."v", $now AS __vf, coalesce(CAST(s."gone" AS BOOLEAN), false) AS __del
FROM "_sluiceway_staging"."dim" AS s
QUALIFY row_number() OVER (PARTITION BY s."k", $now ORDER BY s."__sluiceway_seq" DESC) = 1

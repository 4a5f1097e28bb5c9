CREATE TABLE "_sluiceway_staging"."items__latest" AS
SELECT * FROM "_sluiceway_staging"."items"
QUALIFY ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "__sluiceway_seq" DESC) = 1

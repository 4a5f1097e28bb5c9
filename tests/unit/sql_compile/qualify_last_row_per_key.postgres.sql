CREATE TABLE "_sluiceway_staging"."items__latest" AS SELECT DISTINCT ON ("id") * FROM "_sluiceway_staging"."items" ORDER BY "id", "__sluiceway_seq" DESC NULLS LAST

DELETE FROM "main"."items" AS t WHERE EXISTS
(SELECT 1 FROM "_sluiceway_staging"."items__latest" AS s WHERE s."id" = t."id" AND coalesce(CAST(s."deleted" AS BOOLEAN), false))

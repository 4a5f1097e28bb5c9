UPDATE "_sluiceway_staging"."items__latest" AS s
SET "v" = CASE WHEN list_contains(s."_sluiceway_unchanged", 'v') THEN t."v" ELSE s."v" END
FROM "main"."items" AS t
WHERE s."id" = t."id" AND len(s."_sluiceway_unchanged") > 0

UPDATE "main"."items" AS t SET "_sluiceway_deleted_at" = coalesce(s."changed", $now), "deleted" = s."deleted"
FROM "_sluiceway_staging"."items__latest" AS s
WHERE s."id" = t."id" AND coalesce(CAST(s."deleted" AS BOOLEAN), false) AND t."_sluiceway_deleted_at" IS NULL

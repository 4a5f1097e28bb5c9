DELETE FROM "main"."sales" AS t WHERE CAST(date_trunc('month', t."day") AS DATE) IN
(SELECT DISTINCT CAST(date_trunc('month', s."day") AS DATE) FROM "_sluiceway_staging"."sales" AS s)
OR (CAST(date_trunc('month', t."day") AS DATE) IS NULL AND EXISTS
(SELECT 1 FROM "_sluiceway_staging"."sales" AS s WHERE CAST(date_trunc('month', s."day") AS DATE) IS NULL))

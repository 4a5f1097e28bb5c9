UPDATE "main"."dim" AS t SET "valid_to" = v.__vt, "is_current" = v.__vt IS NULL
FROM "_sluiceway_staging"."dim__tl" AS v
WHERE v."k" = t."k" AND v.__src = 0 AND NOT v.__del AND v.__vf = t."valid_from"
    AND t."valid_to" IS DISTINCT FROM v.__vt

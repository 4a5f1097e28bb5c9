CREATE TABLE "_sluiceway_staging"."dim__tl" AS
WITH entries AS (
    SELECT o."k", o."v", o."valid_from" AS __vf, false AS __del, o.__hash, 0 AS __src
    FROM "_sluiceway_staging"."dim__old" AS o
    UNION ALL
    SELECT o."k", NULL AS "v", o."valid_to" AS __vf, true AS __del, '(deleted)' AS __hash, 0 AS __src
    FROM "_sluiceway_staging"."dim__old" AS o WHERE o."valid_to" IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM "_sluiceway_staging"."dim__old" AS n WHERE n."k" = o."k" AND n."valid_from" = o."valid_to")
    UNION ALL
    SELECT s."k", s."v", s.__vf, s.__del, s.__hash, 1 AS __src FROM "_sluiceway_staging"."dim__inc" AS s
), one AS (
    SELECT * FROM entries
    QUALIFY row_number() OVER (PARTITION BY "k", __vf ORDER BY __src DESC) = 1
), marked AS (
    SELECT *, lag(__hash) OVER (PARTITION BY "k" ORDER BY __vf) AS __prev FROM one
), kept AS (
    SELECT * FROM marked WHERE __hash IS DISTINCT FROM __prev AND NOT (__del AND __prev IS NULL)
)
SELECT *, lead(__vf) OVER (PARTITION BY "k" ORDER BY __vf) AS __vt FROM kept

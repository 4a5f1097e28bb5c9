SELECT count(*) FROM "items" AS s
WHERE coalesce(CAST(s."op" AS VARCHAR) IN ($dv0, $dv1), false) AND s.name LIKE 'a%' AND s.id % 2 = 0

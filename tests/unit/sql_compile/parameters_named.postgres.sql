SELECT COUNT(*) FROM "items" AS s WHERE COALESCE(CAST(s."op" AS TEXT) IN (%(dv0)s, %(dv1)s), FALSE) AND s.name LIKE 'a%%' AND s.id %% 2 = 0

CREATE TABLE ranked AS
SELECT e.k, e.seq FROM events AS e
QUALIFY rank() OVER (PARTITION BY e.k ORDER BY e.ts DESC) = 1

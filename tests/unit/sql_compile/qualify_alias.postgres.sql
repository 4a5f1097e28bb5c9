SELECT DISTINCT ON (k * 2) k * 2 AS k2, seq FROM events ORDER BY k * 2, seq

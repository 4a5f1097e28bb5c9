SELECT DISTINCT ON (k) k, ts, seq FROM events ORDER BY k, ts ASC, seq DESC

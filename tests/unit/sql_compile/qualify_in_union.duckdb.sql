SELECT k, seq FROM events WHERE seq = 1
UNION ALL
SELECT k, seq FROM events QUALIFY row_number() OVER (PARTITION BY k ORDER BY seq DESC) = 1

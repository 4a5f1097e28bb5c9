SELECT k * 2 AS k2, seq FROM events QUALIFY row_number() OVER (PARTITION BY k2 ORDER BY seq) = 1

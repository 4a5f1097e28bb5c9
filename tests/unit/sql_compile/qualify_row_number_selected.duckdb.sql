SELECT k, seq, row_number() OVER (PARTITION BY k ORDER BY seq) AS rn FROM events QUALIFY rn = 1

SELECT k, ts, seq FROM events
QUALIFY row_number() OVER (PARTITION BY k ORDER BY ts ASC, seq DESC NULLS FIRST) = 1

SELECT * FROM events QUALIFY row_number() OVER (ORDER BY ts DESC, seq DESC) = 1

SELECT k, SUM(CAST(v > 1 AS INT)) AS big, SUM(CAST(flag AS INT)) OVER (PARTITION BY k) AS flagged FROM t GROUP BY k, flag

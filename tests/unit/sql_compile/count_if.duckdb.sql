SELECT k, count_if(v > 1) AS big, count_if(flag) OVER (PARTITION BY k) AS flagged FROM t GROUP BY k, flag

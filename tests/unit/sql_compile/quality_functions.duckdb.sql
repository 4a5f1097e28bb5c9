SELECT
    count_if(email IS NULL) AS nulls,
    strftime(ts, '%Y-%m') AS month,
    epoch(ts) AS seconds,
    date_trunc('month', ts) AS month_start,
    a IS NOT DISTINCT FROM b AS same,
    regexp_matches(code, '^[A-Z]{2}-[0-9]+$') AS code_ok
FROM orders
GROUP BY ALL

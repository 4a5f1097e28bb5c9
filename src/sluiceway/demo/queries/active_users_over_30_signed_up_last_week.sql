-- description: Active customers older than 30 who signed up in the data's last week
-- "Last week" is the seven days up to the latest signup in the data, not up to today, so the
-- answer stays the same however long after the data was made it is asked. Ages are at that day.
WITH as_of AS (
  SELECT max(signup_date) AS last_day
  FROM gold.dim_customers
  WHERE is_current
)

SELECT
  c.customer_id,
  c.full_name,
  c.email,
  c.state,
  c.signup_date,
  CAST(extract(YEAR FROM age(a.last_day, c.birth_date)) AS INTEGER) AS age
FROM gold.dim_customers AS c
CROSS JOIN as_of AS a
WHERE c.is_current
  AND c.is_active
  AND c.signup_date > a.last_day - INTERVAL 7 DAY
  AND extract(YEAR FROM age(a.last_day, c.birth_date)) > 30
ORDER BY c.signup_date DESC, c.customer_id

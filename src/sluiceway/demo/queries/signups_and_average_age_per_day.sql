-- description: Signups per day, and the average age of those customers on the day they signed up
-- Newest day first. A customer without a plausible birth date counts as a signup, not in the
-- average.
SELECT
  signup_date,
  count(*) AS signups,
  CAST(avg(extract(YEAR FROM age(signup_date, birth_date))) AS DECIMAL(5, 1)) AS average_age
FROM gold.dim_customers
WHERE is_current
GROUP BY signup_date
ORDER BY signup_date DESC

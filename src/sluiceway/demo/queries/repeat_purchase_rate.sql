-- description: Share of buying customers who came back for a second order, per signup year
SELECT
  CAST(extract(YEAR FROM signup_date) AS INTEGER) AS signup_year,
  count(*) AS buyers,
  count(*) FILTER (WHERE revenue_orders >= 2) AS repeat_buyers,
  CAST(
    100.0 * count(*) FILTER (WHERE revenue_orders >= 2) / count(*) AS DECIMAL(5, 1)
  ) AS repeat_rate_pct
FROM gold.customer_lifetime_value
WHERE revenue_orders >= 1
GROUP BY signup_year
ORDER BY signup_year

-- description: Active users per month (ordering or browsing signed in), the last twelve months
SELECT
  activity_month,
  active_users,
  ordering_users,
  browsing_users
FROM gold.monthly_active_users
ORDER BY activity_month DESC
LIMIT 12

/*
description: Active users per month - customers who placed an order or browsed signed in -
  with each kind of activity counted on its own too.
materialized: table
checks:
  - {rule: unique, columns: [activity_month], on_fail: fail}
  - id: active_is_at_least_each_kind
    rule: expression
    expression: active_users >= ordering_users AND active_users >= browsing_users
    on_fail: fail
*/
-- A user is active in a month if they did anything we can attribute to them: an order (of any
-- status) or a web event while signed in. Anonymous events and orders without a known
-- customer count for no one.
WITH activity AS (
  SELECT
    customer_id,
    CAST(date_trunc('month', order_date) AS DATE) AS activity_month,
    'order' AS kind
  FROM silver.orders
  WHERE customer_id IS NOT NULL
  UNION ALL
  SELECT
    customer_id,
    CAST(date_trunc('month', event_date) AS DATE) AS activity_month,
    'web' AS kind
  FROM silver.web_events
  WHERE customer_id IS NOT NULL
)

SELECT
  activity_month,
  count(DISTINCT customer_id) AS active_users,
  count(DISTINCT customer_id) FILTER (WHERE kind = 'order') AS ordering_users,
  count(DISTINCT customer_id) FILTER (WHERE kind = 'web') AS browsing_users
FROM activity
GROUP BY activity_month

/*
description: Web events with their nested properties flattened, times in UTC, and the visitor
  resolved to the person when signed in.
materialized: incremental
unique_key: event_id
time_column: occurred_at
lookback: 1d
checks:
  - {rule: unique, columns: [event_id], on_fail: fail}
  - {rule: not_null, column: occurred_at, on_fail: fail}
  - rule: accepted_values
    column: event_type
    values: [page_view, search, add_to_cart, checkout, purchase]
    on_fail: fail
  - {rule: foreign_key, column: customer_id, references: silver.customers.customer_id,
     on_fail: fail}
depends_on: [silver.customers]
*/
-- Events only ever arrive: each run merges the rows from a day before the newest one it has
-- seen (late events), by event_id, instead of rebuilding the table.
SELECT
  e.event_id,
  e.session_id,
  i.person_id AS customer_id,
  lower(trim(e.event_type)) AS event_type,
  e.url,
  e.ts AT TIME ZONE 'UTC' AS occurred_at,
  CAST(e.ts AT TIME ZONE 'UTC' AS DATE) AS event_date,
  to_json(e.properties) ->> '$.device.type' AS device_type,
  to_json(e.properties) ->> '$.device.os' AS device_os,
  to_json(e.properties) ->> '$.device.browser' AS browser,
  to_json(e.properties) ->> '$.referrer' AS referrer,
  to_json(e.properties) ->> '$.query' AS search_query
FROM bronze.web_events AS e
LEFT JOIN silver.customer_identities AS i ON i.customer_id = e.customer_id
WHERE e.event_id IS NOT NULL

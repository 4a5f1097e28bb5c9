SELECT
  "customer",
  COUNT(*) FILTER(WHERE
    "channel" = 'web') AS "n_web",
  COUNT(*) FILTER(WHERE
    "channel" = 'shop') AS "n_shop",
  COUNT(*) FILTER(WHERE
    "channel" = 'app') AS "n_app"
FROM "orders"
GROUP BY
  "customer"

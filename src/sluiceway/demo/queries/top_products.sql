-- description: The ten products that brought in the most revenue, with units and orders
-- Lines whose product is unknown (order_items.orphan_product) belong to no product here.
SELECT
  p.product_id,
  p.product_name,
  p.category,
  count(DISTINCT f.order_id) AS orders,
  CAST(sum(f.quantity) AS BIGINT) AS units,
  CAST(sum(f.revenue) AS DECIMAL(14, 2)) AS revenue
FROM gold.fact_order_items AS f
JOIN gold.dim_products AS p ON p.product_id = f.product_id
WHERE f.is_revenue
GROUP BY p.product_id, p.product_name, p.category
ORDER BY revenue DESC, p.product_id
LIMIT 10

SELECT * FROM items WHERE id = ? AND name NOT LIKE '%x%'

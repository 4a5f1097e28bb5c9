SELECT * FROM items WHERE id = %s AND name NOT LIKE '%%x%%'

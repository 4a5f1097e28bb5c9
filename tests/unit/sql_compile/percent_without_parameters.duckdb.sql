SELECT * FROM items WHERE name LIKE 'a%' AND id % 2 = 0

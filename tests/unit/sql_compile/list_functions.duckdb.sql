SELECT
    len(tags) AS n,
    array_length(tags) AS n2,
    len([1, 2, 3]) AS three,
    length(name) AS chars,
    len('abc') AS text_len,
    list_contains(tags, 'x') AS has_x,
    list_has(tags, name) AS has_name
FROM people

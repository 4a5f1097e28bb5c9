SELECT
    struct_pack(a := 1, b := struct_pack(c := 'x')) AS packed,
    {'k': 2, 'l': [1, 2]} AS literal,
    to_json(struct_pack(n := name)) AS as_json,
    json_object('k', 1, 'v', name) AS object,
    CAST(json_object('k', id) AS VARCHAR) AS object_text
FROM people

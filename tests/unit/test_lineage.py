"""Column lineage of SQL models against hand-written expectations, and the lineage graph."""

from __future__ import annotations

import duckdb
import pytest
from rich.console import Console

from sluiceway.core.errors import ConfigError, NotFoundError
from sluiceway.transform.lineage import (
    ColumnLineage,
    ColumnRef,
    LineageGraph,
    LineageNode,
    TableEdge,
    column_lineage,
    render_tree,
    table_lineage,
)

pytestmark = pytest.mark.unit

SCHEMA = {
    "bronze.orders": {
        "id": "INTEGER",
        "customer_id": "INTEGER",
        "amount": "DOUBLE",
        "status": "VARCHAR",
        "ordered_at": "TIMESTAMP",
    },
    "bronze.customers": {"id": "INTEGER", "name": "VARCHAR", "country": "VARCHAR"},
    "bronze.payments": {"order_id": "INTEGER", "amount": "DOUBLE"},
    "bronze.orders_2023": {"id": "INTEGER", "amount": "DOUBLE"},
    "bronze.orders_2024": {"id": "INTEGER", "total": "DOUBLE"},
}

Expected = list[tuple[str, str, tuple[str, ...], str]]


def lineage_of(sql: str, *, schema: dict[str, dict[str, str]] | None = SCHEMA) -> Expected:
    """(column, kind, sources, expression) of each output column."""
    return [
        (c.column, c.kind, tuple(str(s) for s in c.sources), c.expression)
        for c in column_lineage(sql, target="silver.model", schema=schema)
    ]


# -- column lineage of SQL ---------------------------------------------------------------------


def test_plain_select_with_renames() -> None:
    sql = """
        SELECT id AS order_id, customer_id, amount AS order_amount, LOWER(status) AS status
        FROM bronze.orders
    """
    assert lineage_of(sql, schema=None) == [
        ("order_id", "rename", ("bronze.orders.id",), "bronze.orders.id"),
        ("customer_id", "identity", ("bronze.orders.customer_id",), "bronze.orders.customer_id"),
        ("order_amount", "rename", ("bronze.orders.amount",), "bronze.orders.amount"),
        ("status", "derived", ("bronze.orders.status",), "LOWER(bronze.orders.status)"),
    ]


def test_a_chain_of_ctes_is_inlined_down_to_the_physical_columns() -> None:
    sql = """
        WITH cents AS (
            SELECT id, amount * 100 AS amount_cents, status FROM bronze.orders
        ),
        paid AS (
            SELECT id AS order_id, amount_cents + 1 AS padded, status AS state
            FROM cents WHERE status = 'paid'
        )
        SELECT order_id, padded * 2 AS doubled, state FROM paid
    """
    assert lineage_of(sql) == [
        ("order_id", "rename", ("bronze.orders.id",), "bronze.orders.id"),
        (
            "doubled",
            "derived",
            ("bronze.orders.amount",),
            "((bronze.orders.amount * 100) + 1) * 2",
        ),
        ("state", "rename", ("bronze.orders.status",), "bronze.orders.status"),
    ]


def test_the_inlined_expression_computes_the_column_in_duckdb() -> None:
    sql = """
        WITH cents AS (SELECT id, amount * 100 AS amount_cents FROM bronze.orders),
        padded AS (SELECT id, amount_cents + 1 AS padded FROM cents)
        SELECT id, padded * 2 AS doubled FROM padded
    """
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA bronze")
    connection.execute(
        "CREATE TABLE bronze.orders AS SELECT range AS id, range * 1.5 AS amount FROM range(5)"
    )
    lineage = column_lineage(sql, target="silver.x", schema=SCHEMA)
    expressions = ", ".join(c.expression for c in lineage)
    direct = connection.execute(f"SELECT {expressions} FROM bronze.orders ORDER BY 1").fetchall()
    assert direct == connection.execute(f"{sql} ORDER BY 1").fetchall()
    assert len(direct) == 5


def test_a_subquery_in_from() -> None:
    sql = """
        SELECT s.customer_id AS customer, s.total / s.orders AS average
        FROM (
            SELECT customer_id, SUM(amount) AS total, COUNT(*) AS orders
            FROM bronze.orders GROUP BY customer_id
        ) AS s
    """
    assert lineage_of(sql, schema=None) == [
        ("customer", "rename", ("bronze.orders.customer_id",), "bronze.orders.customer_id"),
        ("average", "aggregate", ("bronze.orders.amount",), "SUM(bronze.orders.amount) / COUNT(*)"),
    ]


def test_select_star_expands_with_a_schema() -> None:
    assert lineage_of("SELECT * FROM bronze.customers") == [
        ("id", "identity", ("bronze.customers.id",), "bronze.customers.id"),
        ("name", "identity", ("bronze.customers.name",), "bronze.customers.name"),
        ("country", "identity", ("bronze.customers.country",), "bronze.customers.country"),
    ]


def test_select_star_through_a_cte_expands_with_a_schema() -> None:
    sql = "WITH c AS (SELECT * FROM bronze.customers) SELECT * FROM c WHERE country = 'NL'"
    assert [column for column, *_ in lineage_of(sql)] == ["id", "name", "country"]


def test_select_star_without_a_schema_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as raised:
        column_lineage("SELECT * FROM bronze.orders", target="silver.orders")
    message = raised.value.render()
    assert "silver.orders" in message
    assert "bronze.orders" in message
    assert "schema" in message
    assert "unknown" in message


def test_a_star_over_a_table_missing_from_the_schema_names_that_table() -> None:
    sql = "SELECT c.*, o.id FROM bronze.orders o JOIN bronze.unknown c ON o.id = c.order_id"
    with pytest.raises(ConfigError, match=r"the columns of bronze\.unknown are unknown"):
        column_lineage(sql, target="silver.x", schema=SCHEMA)


def test_a_table_star_beside_a_computed_column() -> None:
    sql = "SELECT c.*, LENGTH(c.name) + 1 AS y FROM bronze.customers AS c"
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.customers.id",), "bronze.customers.id"),
        ("name", "identity", ("bronze.customers.name",), "bronze.customers.name"),
        ("country", "identity", ("bronze.customers.country",), "bronze.customers.country"),
        ("y", "derived", ("bronze.customers.name",), "LENGTH(bronze.customers.name) + 1"),
    ]


def test_a_join_with_qualified_and_unqualified_columns() -> None:
    sql = """
        SELECT o.id, name AS customer, c.country, amount
        FROM bronze.orders AS o JOIN bronze.customers AS c ON o.customer_id = c.id
    """
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders.id",), "bronze.orders.id"),
        ("customer", "rename", ("bronze.customers.name",), "bronze.customers.name"),
        ("country", "identity", ("bronze.customers.country",), "bronze.customers.country"),
        ("amount", "identity", ("bronze.orders.amount",), "bronze.orders.amount"),
    ]


def test_an_unqualified_column_of_a_join_needs_a_schema() -> None:
    sql = "SELECT name FROM bronze.orders AS o JOIN bronze.customers AS c ON o.customer_id = c.id"
    with pytest.raises(ConfigError, match=r"which table column 'name' of model silver\.x"):
        column_lineage(sql, target="silver.x")


def test_window_functions_count_their_partition_and_order_columns() -> None:
    sql = """
        SELECT
            id,
            ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ordered_at) AS nth,
            SUM(amount) OVER (
                PARTITION BY customer_id ORDER BY ordered_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS running_total,
            LAG(amount) OVER (ORDER BY ordered_at) AS previous_amount
        FROM bronze.orders
    """
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders.id",), "bronze.orders.id"),
        (
            "nth",
            "window",
            ("bronze.orders.customer_id", "bronze.orders.ordered_at"),
            "ROW_NUMBER() OVER (PARTITION BY bronze.orders.customer_id "
            "ORDER BY bronze.orders.ordered_at)",
        ),
        (
            "running_total",
            "window",
            ("bronze.orders.amount", "bronze.orders.customer_id", "bronze.orders.ordered_at"),
            "SUM(bronze.orders.amount) OVER (PARTITION BY bronze.orders.customer_id "
            "ORDER BY bronze.orders.ordered_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        ),
        (
            "previous_amount",
            "window",
            ("bronze.orders.amount", "bronze.orders.ordered_at"),
            "LAG(bronze.orders.amount) OVER (ORDER BY bronze.orders.ordered_at)",
        ),
    ]


def test_aggregates_with_group_by() -> None:
    sql = """
        SELECT customer_id, COUNT(*) AS orders, COUNT(DISTINCT status) AS statuses,
               SUM(amount) AS revenue
        FROM bronze.orders GROUP BY customer_id
    """
    assert lineage_of(sql) == [
        ("customer_id", "identity", ("bronze.orders.customer_id",), "bronze.orders.customer_id"),
        ("orders", "aggregate", (), "COUNT(*)"),
        (
            "statuses",
            "aggregate",
            ("bronze.orders.status",),
            "COUNT(DISTINCT bronze.orders.status)",
        ),
        ("revenue", "aggregate", ("bronze.orders.amount",), "SUM(bronze.orders.amount)"),
    ]


def test_an_aggregate_in_a_cte_makes_the_outer_column_an_aggregate() -> None:
    sql = """
        WITH totals AS (SELECT customer_id, SUM(amount) AS total FROM bronze.orders GROUP BY 1)
        SELECT customer_id, total * 2 AS doubled FROM totals
    """
    assert lineage_of(sql)[1] == (
        "doubled",
        "aggregate",
        ("bronze.orders.amount",),
        "SUM(bronze.orders.amount) * 2",
    )


def test_union_all_sources_are_the_union_of_the_branches() -> None:
    sql = """
        SELECT id, amount FROM bronze.orders_2023
        UNION ALL
        SELECT id, total FROM bronze.orders_2024
    """
    assert lineage_of(sql) == [
        (
            "id",
            "identity",
            ("bronze.orders_2023.id", "bronze.orders_2024.id"),
            "bronze.orders_2023.id UNION ALL bronze.orders_2024.id",
        ),
        (
            "amount",
            "rename",
            ("bronze.orders_2023.amount", "bronze.orders_2024.total"),
            "bronze.orders_2023.amount UNION ALL bronze.orders_2024.total",
        ),
    ]


def test_a_union_in_a_cte_keeps_its_reference_in_the_expression() -> None:
    sql = """
        WITH all_orders AS (
            SELECT id, amount FROM bronze.orders_2023
            UNION
            SELECT id, total * 1.1 FROM bronze.orders_2024
        )
        SELECT id, amount + 1 AS plus_one FROM all_orders
    """
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders_2023.id", "bronze.orders_2024.id"), "all_orders.id"),
        (
            "plus_one",
            "derived",
            ("bronze.orders_2023.amount", "bronze.orders_2024.total"),
            "all_orders.amount + 1",
        ),
    ]


def test_case_when() -> None:
    sql = """
        SELECT CASE WHEN amount >= 100 THEN 'large' WHEN amount > 0 THEN 'small'
                    ELSE status END AS size
        FROM bronze.orders
    """
    assert lineage_of(sql) == [
        (
            "size",
            "derived",
            ("bronze.orders.amount", "bronze.orders.status"),
            "CASE WHEN bronze.orders.amount >= 100 THEN 'large' "
            "WHEN bronze.orders.amount > 0 THEN 'small' ELSE bronze.orders.status END",
        )
    ]


def test_literal_columns_are_constants() -> None:
    sql = (
        "SELECT id, 1 AS version, 'web' AS channel, NULL AS note, CURRENT_DATE AS day "
        "FROM bronze.orders"
    )
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders.id",), "bronze.orders.id"),
        ("version", "constant", (), "1"),
        ("channel", "constant", (), "'web'"),
        ("note", "constant", (), "NULL"),
        ("day", "constant", (), "CURRENT_DATE"),
    ]


def test_a_correlated_scalar_subquery_counts_its_column() -> None:
    sql = """
        SELECT o.id,
               (SELECT SUM(p.amount) FROM bronze.payments AS p WHERE p.order_id = o.id) AS paid,
               o.amount - (SELECT SUM(p.amount) FROM bronze.payments AS p
                           WHERE p.order_id = o.id) AS due
        FROM bronze.orders AS o
    """
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders.id",), "bronze.orders.id"),
        (
            "paid",
            "aggregate",
            ("bronze.payments.amount",),
            "(SELECT SUM(p.amount) AS _col_0 FROM bronze.payments AS p WHERE p.order_id = o.id)",
        ),
        (
            "due",
            "aggregate",
            ("bronze.orders.amount", "bronze.payments.amount"),
            "bronze.orders.amount - (SELECT SUM(p.amount) AS _col_0 FROM bronze.payments AS p "
            "WHERE p.order_id = o.id)",
        ),
    ]


def test_a_lateral_join_and_a_table_function() -> None:
    sql = """
        SELECT o.id, c.name, u.tag
        FROM bronze.orders AS o
        LEFT JOIN LATERAL (
            SELECT name FROM bronze.customers AS c WHERE c.id = o.customer_id LIMIT 1
        ) AS c ON TRUE
        CROSS JOIN UNNEST(string_split(o.status, ',')) AS u(tag)
    """
    assert lineage_of(sql) == [
        ("id", "identity", ("bronze.orders.id",), "bronze.orders.id"),
        ("name", "identity", ("bronze.customers.name",), "bronze.customers.name"),
        ("tag", "derived", ("bronze.orders.status",), "u.tag"),
    ]


def test_a_recursive_cte_ends() -> None:
    sql = """
        WITH RECURSIVE days AS (
            SELECT 1 AS n UNION ALL SELECT n + 1 FROM days WHERE n < 7
        )
        SELECT n AS day FROM days
    """
    assert lineage_of(sql) == [("day", "constant", (), "days.n")]


def test_duckdb_columns_expressions_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"COLUMNS\('amount\|id'\) in model silver\.x"):
        column_lineage("SELECT COLUMNS('amount|id') FROM bronze.orders", target="silver.x")


def test_unparseable_sql_and_statements_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"cannot parse the SQL of model silver\.broken"):
        column_lineage("SELECT id FROM bronze.orders WHERE (", target="silver.broken")
    with pytest.raises(ConfigError, match=r"model silver\.x is not a query: it is a DELETE"):
        column_lineage("DELETE FROM bronze.orders", target="silver.x")


def test_table_lineage_lists_physical_tables_not_ctes_nor_the_target() -> None:
    sql = """
        WITH recent AS (SELECT * FROM bronze.orders WHERE ordered_at > (
            SELECT MAX(ordered_at) FROM silver.orders))
        SELECT r.*, c.name FROM recent AS r JOIN bronze.customers AS c ON r.customer_id = c.id
        WHERE EXISTS (SELECT 1 FROM bronze.payments AS p WHERE p.order_id = r.id)
    """
    edges = table_lineage(sql, target="Silver.Orders", detail="model silver_orders")
    assert {edge.source for edge in edges} == {
        "bronze.orders",
        "bronze.customers",
        "bronze.payments",
    }
    assert {(edge.target, edge.kind, edge.detail) for edge in edges} == {
        ("silver.orders", "model", "model silver_orders")
    }


def test_column_refs_are_lower_cased_and_parse() -> None:
    ref = ColumnRef("Bronze.Orders", "Amount")
    assert ref == ColumnRef.parse("bronze.orders.amount")
    assert str(ref) == "bronze.orders.amount"
    with pytest.raises(ValueError, match=r"expected table\.column"):
        ColumnRef.parse("amount")


# -- the graph ---------------------------------------------------------------------------------

SILVER = """
    SELECT id, customer_id, amount * 100 AS amount_cents, UPPER(status) AS status, 'v1' AS tag
    FROM bronze.orders
"""
GOLD = """
    SELECT customer_id, SUM(amount_cents) AS revenue, COUNT(*) AS orders,
           RANK() OVER (ORDER BY SUM(amount_cents) DESC) AS ranking
    FROM silver.orders GROUP BY customer_id
"""


def three_levels() -> LineageGraph:
    """files → bronze.orders → silver.orders → gold.customers."""
    graph = LineageGraph()
    graph.add_table_edge(TableEdge("files:data/orders/*.csv", "bronze.orders", "load", "csv"))
    graph.add_model(
        "silver.orders",
        column_lineage(SILVER, target="silver.orders"),
        table_lineage(SILVER, target="silver.orders"),
    )
    graph.add_model(
        "gold.customers",
        column_lineage(GOLD, target="gold.customers"),
        table_lineage(GOLD, target="gold.customers", detail="gold_customers"),
    )
    return graph


Shape = tuple[str, str | None, tuple["Shape", ...]]


def shape(node: LineageNode) -> Shape:
    return (node.name, node.kind, tuple(shape(child) for child in node.children))


def test_upstream_of_a_column_across_three_levels_down_to_the_load() -> None:
    tree = three_levels().upstream("gold.customers.revenue")
    load = ("files:data/orders/*.csv", "load", ())
    assert shape(tree) == (
        "gold.customers.revenue",
        "aggregate",
        (
            (
                "silver.orders.amount_cents",
                "derived",
                (("bronze.orders.amount", None, (load,)),),
            ),
        ),
    )
    assert tree.expression == "SUM(silver.orders.amount_cents)"
    assert tree.children[0].expression == "bronze.orders.amount * 100"


def test_a_column_from_no_column_continues_with_its_tables_sources() -> None:
    tree = three_levels().upstream("gold.customers.orders")
    assert shape(tree) == (
        "gold.customers.orders",
        "aggregate",
        (
            (
                "silver.orders",
                "model",
                (("bronze.orders", "model", (("files:data/orders/*.csv", "load", ()),)),),
            ),
        ),
    )
    assert tree.children[0].expression == "gold_customers"


def test_downstream_of_a_column_and_of_a_table() -> None:
    graph = three_levels()
    assert shape(graph.downstream("bronze.orders.amount")) == (
        "bronze.orders.amount",
        None,
        (
            (
                "silver.orders.amount_cents",
                "derived",
                (
                    ("gold.customers.revenue", "aggregate", ()),
                    ("gold.customers.ranking", "window", ()),
                ),
            ),
        ),
    )
    assert shape(graph.downstream("files:data/orders/*.csv")) == (
        "files:data/orders/*.csv",
        None,
        (
            (
                "bronze.orders",
                "load",
                (("silver.orders", "model", (("gold.customers", "model", ()),)),),
            ),
        ),
    )


def test_a_node_reached_twice_is_marked_repeated() -> None:
    graph = LineageGraph()
    graph.add_model(
        "silver.a",
        column_lineage("SELECT x + y AS s, x - y AS d FROM bronze.t", target="silver.a"),
    )
    graph.add_model("gold.b", column_lineage("SELECT s * d AS p FROM silver.a", target="gold.b"))
    tree = graph.downstream("bronze.t.x")
    assert [(n.name, n.repeated) for n in tree.walk()] == [
        ("bronze.t.x", False),
        ("silver.a.s", False),
        ("gold.b.p", False),
        ("silver.a.d", False),
        ("gold.b.p", True),
    ]


def test_impact_lists_everything_downstream_once_in_topological_order() -> None:
    graph = three_levels()
    assert [str(ref) for ref in graph.impact("bronze.orders.amount")] == [
        "silver.orders.amount_cents",
        "gold.customers.revenue",
        "gold.customers.ranking",
    ]
    assert [str(ref) for ref in graph.impact("bronze.orders.customer_id")] == [
        "silver.orders.customer_id",
        "gold.customers.customer_id",
    ]
    assert graph.impact("gold.customers.revenue") == []


def test_impact_of_a_table_is_every_column_of_every_table_downstream() -> None:
    assert [str(ref) for ref in three_levels().impact("bronze.orders")] == [
        "silver.orders.id",
        "silver.orders.customer_id",
        "silver.orders.amount_cents",
        "silver.orders.status",
        "silver.orders.tag",
        "gold.customers.customer_id",
        "gold.customers.revenue",
        "gold.customers.orders",
        "gold.customers.ranking",
    ]


def test_tables_come_in_topological_order() -> None:
    assert three_levels().tables() == [
        "files:data/orders/*.csv",
        "bronze.orders",
        "silver.orders",
        "gold.customers",
    ]


def test_an_edge_closing_a_cycle_is_refused_and_nothing_is_added() -> None:
    graph = three_levels()
    back = column_lineage("SELECT revenue AS amount FROM gold.customers", target="bronze.orders")
    with pytest.raises(ConfigError) as raised:
        graph.add_model("bronze.orders", back)
    assert "gold.customers → bronze.orders → silver.orders → gold.customers" in raised.value.message
    assert graph.impact("gold.customers.revenue") == []
    with pytest.raises(ConfigError, match="cycle"):
        graph.add_table_edge(TableEdge("gold.customers", "silver.orders", "transform"))
    assert three_levels().table_edges() == graph.table_edges()


def test_a_model_reading_its_own_table_is_not_a_cycle() -> None:
    sql = """
        SELECT id, amount FROM bronze.orders
        UNION ALL
        SELECT id, amount FROM silver.history
    """
    graph = LineageGraph()
    graph.add_model(
        "silver.history",
        column_lineage(sql, target="silver.history"),
        table_lineage(sql, target="silver.history"),
    )
    assert [str(ref) for ref in graph.impact("bronze.orders.amount")] == ["silver.history.amount"]
    assert [(e.source, e.target) for e in graph.table_edges()] == [
        ("bronze.orders", "silver.history")
    ]


def test_unknown_references_suggest_close_names() -> None:
    graph = three_levels()
    with pytest.raises(NotFoundError) as raised:
        graph.upstream("silver.orders.amount_cent")
    assert "silver.orders.amount_cents" in (raised.value.hint or "")
    with pytest.raises(NotFoundError):
        graph.impact(ColumnRef("silver.orders", "nope"))


def test_references_are_case_insensitive_for_tables_and_columns() -> None:
    graph = three_levels()
    assert graph.upstream("SILVER.Orders.Status").name == "silver.orders.status"
    assert graph.downstream("Bronze.Orders").name == "bronze.orders"


def test_mermaid_of_the_whole_graph() -> None:
    lines = three_levels().to_mermaid().splitlines()
    assert lines[0] == "flowchart LR"
    assert lines[1] == '    t0["files:data/orders/*.csv"]'
    assert lines[2] == '    subgraph t1["bronze.orders"]'
    assert '        c0["id"]' in lines
    assert lines.count("    end") == 3
    column_edges = [line for line in lines if " -->|" in line]
    assert len(column_edges) == 7  # the constant and COUNT(*) have no source column
    assert "    c2 -->|derived| c6" in column_edges  # bronze amount → silver amount_cents
    # Table edges are drawn only where no column edge links the two tables: here, the load.
    assert [line for line in lines if " -.->|" in line] == ["    t0 -.->|load| t1"]
    assert not any(line.startswith("    class ") for line in lines)


def test_mermaid_focused_on_a_column_shows_only_its_lineage() -> None:
    text = three_levels().to_mermaid("silver.orders.amount_cents")
    assert text == (
        "flowchart LR\n"
        '    t0["files:data/orders/*.csv"]\n'
        '    subgraph t1["bronze.orders"]\n'
        '        c0["amount"]\n'
        "    end\n"
        '    subgraph t2["silver.orders"]\n'
        '        c1["amount_cents"]\n'
        "    end\n"
        '    subgraph t3["gold.customers"]\n'
        '        c2["revenue"]\n'
        '        c3["ranking"]\n'
        "    end\n"
        "    c0 -->|derived| c1\n"
        "    c1 -->|aggregate| c2\n"
        "    c1 -->|window| c3\n"
        "    t0 -.->|load| t1\n"
        "    classDef focus stroke:#d97706,stroke-width:3px\n"
        "    class c1 focus\n"
    )


def test_mermaid_focused_on_a_table() -> None:
    lines = three_levels().to_mermaid("silver.orders").splitlines()
    subgraphs = [line for line in lines if "subgraph" in line]
    assert subgraphs == [
        '    subgraph t1["bronze.orders"]',
        '    subgraph t2["silver.orders"]',
        '    subgraph t3["gold.customers"]',
    ]
    assert lines[-1] == "    class t2 focus"


def test_mermaid_escapes_quotes() -> None:
    graph = LineageGraph()
    graph.add_table_edge(TableEdge('rest:"https://api/x"', "bronze.x", "load"))
    assert '    t0["rest:#quot;https://api/x#quot;"]' in graph.to_mermaid().splitlines()


def test_render_tree_prints_names_kinds_and_expressions() -> None:
    console = Console(width=120, record=True, color_system=None)
    console.print(render_tree(three_levels().upstream("gold.customers.revenue")))
    assert console.export_text().splitlines() == [
        "gold.customers.revenue  aggregate  SUM(silver.orders.amount_cents)",
        "└── silver.orders.amount_cents  derived  bronze.orders.amount * 100",
        "    └── bronze.orders.amount",
        "        └── files:data/orders/*.csv  load  csv",
    ]


def test_declared_lineage_of_a_python_transform() -> None:
    graph = three_levels()
    graph.add_model(
        "gold.scores",
        [
            ColumnLineage(
                "score",
                (ColumnRef("gold.customers", "revenue"), ColumnRef("gold.customers", "orders")),
                "score(revenue, orders)",
                "derived",
            )
        ],
        [TableEdge("gold.customers", "gold.scores", "transform", "scoring.py:score")],
    )
    assert [str(r) for r in graph.impact("silver.orders.amount_cents")][-1] == "gold.scores.score"
    with pytest.raises(ValueError, match="goes into"):
        graph.add_model("gold.x", [], [TableEdge("gold.customers", "gold.y", "transform")])


def test_struct_fields_and_types_sqlglot_cannot_read() -> None:
    schema = {"bronze.events": {"id": "BIGINT", "Payload": "STRUCT(kind VARCHAR)", "x": "??"}}
    assert lineage_of(
        "SELECT e.payload.kind AS kind, x FROM bronze.events AS e", schema=schema
    ) == [
        ("kind", "derived", ("bronze.events.payload",), "bronze.events.payload.kind"),
        ("x", "identity", ("bronze.events.x",), "bronze.events.x"),
    ]


def test_a_schema_mixing_qualified_and_bare_tables_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"name every table as schema\.table"):
        column_lineage("SELECT 1 AS one", target="silver.x", schema={"a": {}, "bronze.b": {}})


def test_a_table_function_is_no_table_edge() -> None:
    # read_csv(...) names no table: an empty edge would break every later graph load.
    edges = table_lineage(
        "SELECT * FROM read_csv('orders.csv') JOIN bronze.c USING (id)", target="s.f"
    )
    assert [e.source for e in edges] == ["bronze.c"]


def test_an_unnamed_output_column_is_refused_not_given_an_invented_name() -> None:
    schema = {"bronze.orders": {"amount": "INTEGER"}}
    with pytest.raises(ConfigError, match=r"output column amount \* 2 has no name"):
        column_lineage("SELECT amount * 2 FROM bronze.orders", target="s.x", schema=schema)
    union = "SELECT amount + 1 AS a FROM bronze.orders UNION ALL SELECT amount FROM bronze.orders"
    assert [c.column for c in column_lineage(union, target="s.x", schema=schema)] == ["a"]

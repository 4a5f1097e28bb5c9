"""The built-in operations: golden SQL per case, validation errors, the Python builders.

Each ``transform_ops/NAME.yaml`` holds a chain of operations (``ops:``) over one of the tables
in ``transform_ops/_tables.yaml`` (``source:``; ``columns: unknown`` compiles it without the
table's columns). It compiles to exactly ``NAME.duckdb.sql`` and ``NAME.postgres.sql`` (laid
out with ``to_sql(..., pretty=True)``). ``tests/integration/test_transform_ops_postgres.py``
runs both on real engines and compares the rows.

To (re)write the expected files after a deliberate change, run::

    SLUICEWAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_transform_ops.py

and review the diff: the tests then pass, having written what they found.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlglot import exp

from sluiceway.core.errors import ConfigError
from sluiceway.transform.ops import (
    FilterOp,
    OpsError,
    compile_ops,
    ops,
    output_columns,
    parse_ops,
    prepare,
    to_sql,
)

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "transform_ops"
CASES = sorted(p.stem for p in GOLDEN.glob("*.yaml") if not p.name.startswith("_"))
DIALECTS = ("duckdb", "postgres")
UPDATE = os.environ.get("SLUICEWAY_UPDATE_GOLDEN") == "1"


def load_tables() -> dict[str, dict[str, Any]]:
    """The input tables: name → {columns: {name: DuckDB type}, rows: [[...], ...]}."""
    tables: dict[str, dict[str, Any]] = yaml.safe_load(
        (GOLDEN / "_tables.yaml").read_text(encoding="utf-8")
    )
    return tables


def load_case(name: str) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load((GOLDEN / f"{name}.yaml").read_text(encoding="utf-8"))
    return case


def compile_case(name: str) -> exp.Select:
    """The case's chain compiled over its source table."""
    case = load_case(name)
    source = case["source"]
    known = case.get("columns", "known") == "known"
    columns = load_tables()[source]["columns"] if known else None
    return compile_ops(source, parse_ops(case["ops"]), columns=columns)


def test_every_case_has_its_expected_outputs() -> None:
    assert len(CASES) >= 30
    for dialect in DIALECTS:
        found = {p.name.removesuffix(f".{dialect}.sql") for p in GOLDEN.glob(f"*.{dialect}.sql")}
        assert found == set(CASES), dialect


def test_every_operation_has_a_case() -> None:
    used = {op["op"] for name in CASES for op in load_case(name)["ops"]}
    assert used == set(ops_names())


def ops_names() -> list[str]:
    from sluiceway.transform.ops import COMPILERS

    return list(COMPILERS)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, dialect: str) -> None:
    found = to_sql(compile_case(name), dialect, pretty=True) + "\n"
    path = GOLDEN / f"{name}.{dialect}.sql"
    if UPDATE:
        path.write_text(found, encoding="utf-8")
    assert found == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_pretty_text_is_the_same_query(name: str) -> None:
    """The golden layout is for reading: it parses to what runs."""
    query = compile_case(name)
    for dialect in DIALECTS:
        plain: exp.Expr = exp.maybe_parse(to_sql(query, dialect), dialect=dialect)
        pretty: exp.Expr = exp.maybe_parse(to_sql(query, dialect, pretty=True), dialect=dialect)
        assert plain == pretty


# -- validation -----------------------------------------------------------------------------


def test_an_unknown_operation_is_refused_with_the_known_ones() -> None:
    with pytest.raises(OpsError) as caught:
        parse_ops([{"op": "select", "columns": ["id"]}, {"op": "explode", "column": "x"}])
    message = str(caught.value)
    assert "ops[1]" in message
    assert "ops[1]: unknown operation 'explode'; the operations: select, rename," in message
    assert "rfm, bin" in message
    with pytest.raises(OpsError, match=r"unknown operation 'filtr' \(did you mean 'filter'\?\)"):
        parse_ops([{"op": "filtr", "where": {"sql": "true"}}])
    assert isinstance(caught.value, ConfigError)


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(OpsError, match=r"ops\[0\]\.colums: Extra inputs are not permitted"):
        parse_ops([{"op": "select", "colums": ["id"]}])


def test_a_missing_column_is_named_with_a_suggestion_when_columns_are_known() -> None:
    chain = parse_ops(
        [{"op": "select", "columns": ["id", "amount"]}, {"op": "rename", "columns": {"amout": "x"}}]
    )
    columns = load_tables()["orders"]["columns"]
    with pytest.raises(OpsError) as caught:
        compile_ops("orders", chain, columns=columns)
    assert "ops[1] (rename): no column 'amout' in the input" in str(caught.value)
    assert "did you mean 'amount'?" in str(caught.value)
    # Unknown columns: nothing to check against, the warehouse will say.
    filtered = parse_ops([{"op": "filter", "where": {"column": "nope", "op": "is_null"}}])
    assert '"nope" IS NULL' in to_sql(compile_ops("orders", filtered))
    with pytest.raises(OpsError, match=r"ops\[0\] \(filter\): no column 'nope'"):
        compile_ops("orders", filtered, columns=columns)


def test_columns_carry_through_the_chain() -> None:
    chain = parse_ops(
        [
            {"op": "rename", "columns": {"amount": "total"}},
            {"op": "filter", "where": {"column": "amount", "op": "gt", "value": 1}},
        ]
    )
    with pytest.raises(OpsError, match=r"ops\[1\] \(filter\): no column 'amount'") as caught:
        compile_ops("orders", chain, columns=load_tables()["orders"]["columns"])
    assert "the columns: id, customer, status, region, total," in str(caught.value)


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        ({"column": "a", "op": "eq"}, "`eq` takes one value"),
        ({"column": "a", "op": "in", "value": 1}, "`in` takes a non-empty list"),
        ({"column": "a", "op": "between", "value": [1]}, "`between` takes `value: [low, high]`"),
        ({"column": "a", "op": "is_null", "value": 1}, "`is_null` takes no `value`"),
        ({"column": "a", "op": "equals", "value": 1}, "Input should be 'eq', 'ne'"),
        ({"col": "a", "op": "eq", "value": 1}, "a condition is one of"),
        ({"and": [{"column": "a", "op": "eq", "value": 1}], "or": []}, "a condition is one of"),
        ({"sql": "SELECT 1"}, "expected a SQL expression, got a statement"),
        ({"sql": "amount >"}, "cannot parse the SQL"),
    ],
)
def test_a_bad_filter_leaf_is_refused(leaf: dict[str, Any], message: str) -> None:
    with pytest.raises(OpsError) as caught:
        parse_ops([{"op": "filter", "where": {"and": [{"column": "x", "op": "not_null"}, leaf]}}])
    assert message in str(caught.value)
    assert "ops[0].where.and[1]" in str(caught.value)


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ({"op": "select"}, "give exactly one of `columns`"),
        ({"op": "cast", "columns": {"a": "NOTATYPE"}}, "'NOTATYPE' is not a DuckDB type"),
        ({"op": "aggregate", "measures": {"p": {"fn": "percentile", "column": "x"}}}, "needs `q`"),
        ({"op": "aggregate", "measures": {"s": {"fn": "sum"}}}, "`sum` needs a `column`"),
        ({"op": "window", "columns": {"n": {"fn": "row_number"}}}, "give `order_by`"),
        (
            {
                "op": "window",
                "order_by": "t",
                "columns": {"m": {"fn": "moving_avg", "column": "x"}},
            },
            "`moving_avg` needs `rows`",
        ),
        ({"op": "dedupe", "key": "k", "keep": "last"}, "`keep: last` needs `order_by`"),
        (
            {
                "op": "resample",
                "time": "t",
                "every": "3 months",
                "measures": {"n": {"fn": "count"}},
            },
            "months, quarters and years resample one at a time",
        ),
        (
            {
                "op": "resample",
                "time": "t",
                "every": "fortnight",
                "measures": {"n": {"fn": "count"}},
            },
            "is not an interval",
        ),
        ({"op": "bin", "column": "x", "edges": [3, 1]}, "`edges` must increase"),
        ({"op": "bin", "column": "x", "count": 3, "labels": ["a"]}, "1 labels for 3 bins"),
        ({"op": "join", "table": "t", "on": {"a": "b"}, "using": ["a"]}, "exactly one of `on`"),
        ({"op": "flatten", "column": "j", "paths": {"a": "x..y"}}, "cannot read the JSON path"),
        (
            {"op": "pivot", "column": "c", "values": "v", "categories": ["a", "a"]},
            "named twice",
        ),
        ({"op": "derive", "columns": {"x": "DROP TABLE t"}}, "statement"),
    ],
)
def test_bad_options_are_refused(op: dict[str, Any], message: str) -> None:
    with pytest.raises(OpsError) as caught:
        parse_ops([op])
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ([{"op": "rename", "columns": {"a": "b"}}], "rename keeps the other columns"),
        ([{"op": "select", "except": ["a"]}], "`except` keeps every other column"),
        ([{"op": "flatten", "column": "a"}], "flatten replaces the column"),
        (
            [{"op": "join", "table": "t", "how": "full", "using": "k"}],
            "a full join with `using` fills its keys from both sides",
        ),
    ],
)
def test_operations_that_need_the_columns_say_so(chain: list[Any], message: str) -> None:
    with pytest.raises(OpsError, match=message) as caught:
        compile_ops("orders", parse_ops(chain))
    assert caught.value.hint is not None
    assert "columns=" in caught.value.hint


def test_flattening_needs_a_struct_or_json_column() -> None:
    columns = load_tables()["customers"]["columns"]
    with pytest.raises(OpsError, match="'name' is VARCHAR, not a STRUCT"):
        compile_ops("customers", [ops.flatten("name")], columns=columns)
    with pytest.raises(OpsError, match="'birth_date' is DATE, not JSON or text"):
        compile_ops("customers", [ops.flatten("birth_date", paths={"a": "a"})], columns=columns)


def test_clashing_output_names_are_refused() -> None:
    columns = load_tables()["orders"]["columns"]
    with pytest.raises(OpsError, match="two columns named 'amount'"):
        compile_ops("orders", [ops.rename({"id": "amount"})], columns=columns)
    chain = [
        ops.derive(customer_tier="1"),
        ops.join("customers", on={"customer": "customer"}, select=["tier"], prefix="customer_"),
    ]
    with pytest.raises(OpsError, match="would be named 'customer_tier'"):
        compile_ops("orders", chain, columns=columns)


# -- the chain and the Python API --------------------------------------------------------------


def test_no_operations_select_the_source() -> None:
    assert to_sql(compile_ops("raw.orders", [])) == 'SELECT * FROM "raw"."orders"'


def test_a_query_source_is_the_first_cte_and_lends_its_column_names() -> None:
    source = exp.select("id", "amount").from_("orders")
    query = compile_ops(source, [ops.rename({"amount": "total"})])
    assert to_sql(query) == (
        'WITH "_source" AS (SELECT id, amount FROM orders) '
        'SELECT "id", "amount" AS "total" FROM "_source"'
    )


def test_cte_names_never_hide_a_table_the_chain_reads() -> None:
    chain = [
        ops.filter(ops.where("a", "eq", 1)),
        ops.join("_op0_filter", on={"a": "a"}),
    ]
    sql = to_sql(compile_ops("t", chain))
    assert 'WITH "_op0_filter_1" AS' in sql
    assert 'JOIN "_op0_filter" AS "r"' in sql


def test_python_builders_make_the_yaml_models() -> None:
    built = [
        ops.select("id", "amount"),
        ops.filter(ops.any_of(ops.where("amount", "gt", 10), ops.not_(ops.sql("id = 1")))),
        ops.aggregate({"n": ops.measure("count"), "total": {"fn": "sum", "column": "amount"}}),
    ]
    written = parse_ops(
        [
            {"op": "select", "columns": ["id", "amount"]},
            {
                "op": "filter",
                "where": {
                    "or": [
                        {"column": "amount", "op": "gt", "value": 10},
                        {"not": {"sql": "id = 1"}},
                    ]
                },
            },
            {
                "op": "aggregate",
                "measures": {"n": {"fn": "count"}, "total": {"fn": "sum", "column": "amount"}},
            },
        ]
    )
    assert built == written
    assert isinstance(built[1], FilterOp)
    with pytest.raises(ValueError, match="`between` takes"):
        ops.where("a", "between", [1])


def test_every_builder_compiles() -> None:
    columns = {"k": "VARCHAR", "t": "TIMESTAMP", "x": "DOUBLE", "s": "STRUCT(a INT)"}
    chain = [
        ops.cast({"x": "DOUBLE"}, safe=True),
        ops.flatten("s", keep=True),
        ops.flatten("k", paths={"j": "a.b"}, keep=True),
        ops.dedupe(["k"], order_by=["t desc"]),
        ops.window({"r": ops.window_column("lag", "x", offset=2, default=0)}, order_by=["t"]),
        ops.bin("x", edges=[0, 1]),
        ops.age("t", name="years"),
        ops.days_since("t"),
        ops.unpivot(["x"], index=["k", "t"]),
        ops.pivot("name", ["x"], index=["k", "t"], values="value"),
        ops.resample("t", "1 hour", {"n": ops.measure("count")}, group_by=["k"], fill="zero"),
        ops.join("other", using=["k"], how="left", select={"v": "other_v"}),
        ops.rfm("k", "t", "n"),
    ]
    query = compile_ops("t0", chain, columns=columns)
    for dialect in DIALECTS:
        assert to_sql(query, dialect).startswith("WITH ")
    assert list(output_columns("t0", chain, columns=columns) or {}) == [
        "k",
        "recency",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
    ]


def test_output_columns_are_unknown_when_the_input_is() -> None:
    assert output_columns("t", [ops.filter(ops.sql("true"))]) is None
    assert output_columns("t", [ops.select("a", "b")]) == {"a": None, "b": None}


def test_prepare_rewrites_only_for_postgres_and_leaves_the_tree_alone() -> None:
    columns = {"s": "STRUCT(a INT, b STRUCT(c VARCHAR, d INT[]))"}
    query = compile_ops("t", [ops.flatten("s", recursive=True)], columns=columns)
    before = query.copy()
    assert prepare(query, "duckdb") == query
    pg = to_sql(query, "postgres")
    assert query == before
    assert "JSONB_EXTRACT_PATH_TEXT(\"s\", 'a')" in pg
    assert "JSONB_EXTRACT_PATH_TEXT(\"s\", 'b', 'c')" in pg
    assert "JSONB_EXTRACT_PATH(\"s\", 'b', 'd') AS \"s_b_d\"" in pg
    assert "STRUCT_EXTRACT" not in pg


# -- the docs -------------------------------------------------------------------------------

DOCS = Path(__file__).parents[2] / "docs" / "operations.md"
EXAMPLE = re.compile(r"```yaml\n(source: .*?)```\n\n```sql\n(.*?)```", re.DOTALL)


def doc_examples() -> list[dict[str, Any]]:
    """The ``yaml`` examples of docs/operations.md that have a ``source:`` (and ``ops:``)."""
    text = DOCS.read_text(encoding="utf-8")
    return [yaml.safe_load(found[1]) for found in EXAMPLE.finditer(text)]


def compile_example(example: dict[str, Any]) -> exp.Select:
    columns = load_tables()[example["source"]]["columns"]
    return compile_ops(example["source"], parse_ops(example["ops"]), columns=columns)


def test_the_docs_show_what_each_example_compiles_to() -> None:
    """Every ``yaml`` example with a ``source:`` in docs/operations.md is followed by the DuckDB
    SQL it compiles to (rewritten with SLUICEWAY_UPDATE_GOLDEN=1)."""
    text = DOCS.read_text(encoding="utf-8")

    def compiled(found: re.Match[str]) -> str:
        query = compile_example(yaml.safe_load(found[1]))
        return f"```yaml\n{found[1]}```\n\n```sql\n{to_sql(query, pretty=True)}\n```"

    expected = EXAMPLE.sub(compiled, text)
    if UPDATE:
        DOCS.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected
    documented = {op["op"] for example in doc_examples() for op in example["ops"]}
    assert documented == set(ops_names())

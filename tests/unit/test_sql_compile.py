"""The compile step from DuckDB's dialect to PostgreSQL: golden SQL per pass, and the refusals.

Each ``sql_compile/NAME.duckdb.sql`` compiles to exactly ``NAME.postgres.sql`` (whitespace at the
ends aside). SQL holding parameters is compiled with ``params=True``, as a load binds them.
``tests/integration/test_sql_compile_postgres.py`` runs the compiled SQL on a real server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from sluiceway.core import sql_compile
from sluiceway.core.sql_compile import PASSES, SqlCompileError, compile_sql, parse_sql
from sluiceway.quality.sql import render

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "sql_compile"
CASES = sorted(p.name.removesuffix(".duckdb.sql") for p in GOLDEN.glob("*.duckdb.sql"))


def has_parameters(sql: str) -> bool:
    return parse_sql(sql).find(exp.Placeholder) is not None


def test_every_golden_input_has_its_expected_output() -> None:
    expected = {p.name.removesuffix(".postgres.sql") for p in GOLDEN.glob("*.postgres.sql")}
    assert CASES
    assert set(CASES) == expected


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    source = (GOLDEN / f"{name}.duckdb.sql").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.postgres.sql").read_text(encoding="utf-8").strip()
    assert compile_sql(source, "postgres", params=has_parameters(source)) == expected


@pytest.mark.parametrize("name", CASES)
def test_duckdb_text_comes_back_unchanged(name: str) -> None:
    source = (GOLDEN / f"{name}.duckdb.sql").read_text(encoding="utf-8")
    assert compile_sql(source, "duckdb") is source
    assert compile_sql(source, "duckdb", params=True) is source


def test_a_tree_renders_as_sqlglot_would_for_duckdb_and_is_not_changed() -> None:
    tree = parse_sql("SELECT a, count(*) FROM t GROUP BY ALL QUALIFY row_number() OVER () = 1")
    before = tree.copy()
    assert compile_sql(tree, "duckdb") == tree.sql(dialect="duckdb")
    assert compile_sql(tree, "postgres") == "SELECT a, COUNT(*) FROM t GROUP BY 1 LIMIT 1"
    assert tree == before


def test_quality_render_goes_through_the_compile_step() -> None:
    query = exp.select(exp.CountIf(this=exp.column("x").is_(exp.null()))).from_("t")
    assert render(query, "duckdb") == query.sql(dialect="duckdb")
    assert render(query, "postgres") == "SELECT SUM(CAST(x IS NULL AS INT)) FROM t"


def test_the_same_text_is_parsed_once() -> None:
    sql = "SELECT 'cache me' AS a, b, count(*) FROM t GROUP BY ALL"
    compile_sql(sql, "postgres")
    hits = sql_compile._compile_text.cache_info().hits
    assert compile_sql(sql, "postgres") == "SELECT 'cache me' AS a, b, COUNT(*) FROM t GROUP BY 2"
    assert sql_compile._compile_text.cache_info().hits == hits + 1


def test_postgres_passes_are_listed_in_order() -> None:
    names = [p.__name__ for p in PASSES["postgres"]]
    assert names == [
        "reject_by_name",
        "reject_columns_expression",
        "postgres_types",
        "expand_group_by_all",
        "expand_order_by_all",
        "qualify_to_distinct_on",
        "eliminate_qualify",
        "structs_to_json",
        "list_length_to_cardinality",
        "list_contains_to_any",
        "count_if_to_sum",
    ]


def test_other_dialects_get_sqlglot_alone() -> None:
    assert compile_sql("SELECT a, count(*) FROM t GROUP BY ALL", "spark") == (
        "SELECT a, COUNT(*) FROM t GROUP BY ALL"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT *, count(*) FROM t GROUP BY ALL", "GROUP BY ALL cannot be expanded"),
        ("SELECT t.*, count(*) FROM t GROUP BY ALL", "GROUP BY ALL cannot be expanded"),
        ("SELECT a, row_number() OVER () FROM t GROUP BY ALL", "window function"),
        ("SELECT * FROM t ORDER BY ALL", "ORDER BY ALL cannot be expanded"),
        ("SELECT * FROM t QUALIFY rank() OVER (ORDER BY a) = 1", "QUALIFY with a SELECT"),
        (
            "SELECT s.* FROM t AS s QUALIFY row_number() OVER (PARTITION BY a) = 2",
            "QUALIFY with a SELECT",
        ),
        (
            "SELECT b AS a, a AS b FROM t QUALIFY row_number() OVER (PARTITION BY a) = 1",
            "both a select alias and an input column",
        ),
        (
            "SELECT a FROM t QUALIFY rank() OVER (ORDER BY b) = 1 ORDER BY a + 1",
            "QUALIFY with ORDER BY",
        ),
        ("SELECT a FROM t UNION ALL BY NAME SELECT a FROM u", "BY NAME"),
        (
            "SELECT regexp_matches(COLUMNS('^phone(_number)?$'), '[0-9]') FROM t",
            r"COLUMNS\('\^phone\(_number\)\?\$'\) \(DuckDB's star expression\) has no",
        ),
        ("SELECT a FROM t UNION BY NAME SELECT a FROM u", "BY NAME"),
        ("INSERT INTO t BY NAME SELECT 1 AS a", "INSERT ... BY NAME"),
        ("SELECT struct_pack(1)", "a struct field needs a name"),
        ("SELECT 1; SELECT 2", "expected one SQL statement"),
        ("SELECT FROM WHERE (", "cannot parse"),
    ],
)
def test_what_has_no_faithful_translation_is_refused(sql: str, message: str) -> None:
    with pytest.raises(SqlCompileError, match=message):
        compile_sql(sql, "postgres")


def test_compile_errors_are_value_errors() -> None:
    assert issubclass(SqlCompileError, ValueError)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM t WHERE a = $1", "positional parameters"),
        ("SELECT * FROM t WHERE a = $a AND b = ?", "cannot mix"),
    ],
)
def test_parameters_psycopg_cannot_bind_are_refused(sql: str, message: str) -> None:
    with pytest.raises(SqlCompileError, match=message):
        compile_sql(sql, "postgres", params=True)


def test_parameters_need_params_true_on_postgres() -> None:
    with pytest.raises(SqlCompileError, match="params=True"):
        compile_sql("SELECT * FROM t WHERE a = $a", "postgres")
    assert compile_sql("SELECT * FROM t WHERE a = $a", "duckdb") == ("SELECT * FROM t WHERE a = $a")


def test_every_percent_is_escaped_when_parameters_are_bound() -> None:
    sql = "SELECT a % 2 AS \"odd%\", '100%' AS pct FROM t WHERE b LIKE $p -- 5% off"
    assert compile_sql(sql, "postgres", params=True) == (
        "SELECT a %% 2 AS \"odd%%\", '100%%' AS pct FROM t WHERE b LIKE %(p)s /* 5%% off */"
    )
    # No parameters bound, no escaping: psycopg sends the text as it is.
    assert compile_sql("SELECT '100%' AS pct", "postgres") == "SELECT '100%' AS pct"
    assert compile_sql("SELECT '100%' AS pct", "postgres", params=True) == ("SELECT '100%%' AS pct")


def test_a_repeated_named_parameter_keeps_its_name() -> None:
    sql = "SELECT * FROM t WHERE a = $now OR b = $now"
    assert compile_sql(sql, "postgres", params=True) == (
        "SELECT * FROM t WHERE a = %(now)s OR b = %(now)s"
    )


def test_group_by_all_leaves_out_expressions_without_columns() -> None:
    sql = (
        "SELECT 'x' AS k, $p AS p, current_date AS d, (SELECT max(a) FROM u) AS m, a + 1 AS b, "
        "count(*) FROM t GROUP BY ALL"
    )
    assert compile_sql(sql, "postgres", params=True) == (
        "SELECT 'x' AS k, %(p)s AS p, CURRENT_DATE AS d, (SELECT MAX(a) FROM u) AS m, "
        "a + 1 AS b, COUNT(*) FROM t GROUP BY 5"
    )


def test_len_is_a_list_length_and_length_a_string_length() -> None:
    sql = "SELECT len(l), len(CAST(x AS VARCHAR)), length(s), length([1]) FROM t"
    assert compile_sql(sql, "postgres") == (
        "SELECT CARDINALITY(l), LENGTH(CAST(x AS TEXT)), LENGTH(s), CARDINALITY(ARRAY[1]) FROM t"
    )


def test_row_number_bounds_other_than_one_row_keep_the_general_rewrite() -> None:
    sql = "SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) <= 2"
    assert compile_sql(sql, "postgres") == (
        "SELECT a FROM (SELECT a, ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) <= 2 AS _q "
        "FROM t) AS _t WHERE _q"
    )
    first = "SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) < 2"
    assert compile_sql(first, "postgres") == "SELECT DISTINCT ON (a) a FROM t ORDER BY a, b"


def test_a_select_with_its_own_order_keeps_the_general_rewrite() -> None:
    sql = "SELECT a, b FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1 ORDER BY b"
    assert compile_sql(sql, "postgres") == (
        "SELECT a, b FROM (SELECT a, b, ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) = 1 AS _q "
        "FROM t) AS _t WHERE _q ORDER BY b"
    )


def test_helper_names_do_not_clash_with_selected_columns() -> None:
    sql = "SELECT _q, _c1, a + 1 FROM t QUALIFY rank() OVER (ORDER BY a) = 1"
    assert compile_sql(sql, "postgres") == (
        "SELECT _q, _c1, _c2 FROM (SELECT _q, _c1, a + 1 AS _c2, RANK() OVER (ORDER BY a) = 1 "
        "AS _q_1 FROM t) AS _t WHERE _q_1"
    )

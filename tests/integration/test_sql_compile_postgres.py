"""Compiled SQL runs on a real PostgreSQL and gives the rows DuckDB gives for the original.

The same small tables are built in both engines from one DuckDB-dialect script (compiled for
PostgreSQL). Every golden input under ``tests/unit/sql_compile/`` then runs as written on DuckDB
and compiled on PostgreSQL; a query's rows, or the table a statement writes, must be the same
(order aside, values normalised across drivers: numbers, JSON, time zones). Row hashes differ
between engines by design, so for them the equality pattern is compared: equal rows hash equal,
different rows differently, in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pytest
from sqlglot import exp

from sluiceway.core.sql_compile import compile_sql, parse_sql
from sluiceway.quality.check import check_table
from sluiceway.quality.sql import DuckDBRunner, render
from tests.integration.test_quality_check_postgres import (
    ORDER_FAILING,
    ORDER_RULES,
    create_all,
    failing,
)

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent.parent / "unit" / "sql_compile"
CASES = sorted(p.name.removesuffix(".duckdb.sql") for p in GOLDEN.glob("*.duckdb.sql"))

NOW = datetime(2024, 5, 1, 12, 0, 0)
PARAMS: dict[str, Any] = {"now": NOW, "dv0": "D", "dv1": "delete"}
POSITIONAL: dict[str, list[Any]] = {"parameters_positional": [2]}
ORDERED = {"order_by_all"}  # goldens whose row order is part of the answer
HASHES = {"__hash", "h", "hash"}  # columns compared by their equality pattern

WIDE = ", ".join(f"c{i} INT" for i in range(60))
SETUP = f"""
CREATE SCHEMA IF NOT EXISTS "main";
CREATE SCHEMA "_sluiceway_staging";
CREATE TABLE orders (id INT, region VARCHAR, kind VARCHAR, amount DOUBLE, email VARCHAR,
    ts TIMESTAMP, a INT, b INT, code VARCHAR);
INSERT INTO orders VALUES
    (1, 'east', 'web', 5.0, 'a@b.com', TIMESTAMP '2024-01-15 10:00:00', 1, 1, 'AB-1'),
    (2, 'east', 'web', 7.5, NULL, TIMESTAMP '2024-01-20 11:00:00', 1, 2, 'ab-1'),
    (3, 'west', 'shop', 1.0, 'c@d.net', TIMESTAMP '2024-02-01 00:00:00', NULL, NULL, 'CD-7'),
    (4, NULL, 'shop', 2.0, 'e@f.io', NULL, 2, NULL, NULL),
    (5, NULL, 'shop', 2.0, 'e@f.io', NULL, 2, NULL, NULL),
    (6, 'west', 'web', 100.0, 'g@h.com', TIMESTAMP '2024-02-03 08:30:00', 3, 3, 'GH-33');
CREATE TABLE events (k INT, ts TIMESTAMP, seq INT, v VARCHAR);
INSERT INTO events VALUES
    (1, TIMESTAMP '2024-01-01 10:00:00', 1, 'a'),
    (1, TIMESTAMP '2024-01-01 12:00:00', 2, 'b'),
    (1, TIMESTAMP '2024-01-01 12:00:00', 3, 'c'),
    (1, NULL, 4, 'd'),
    (2, NULL, 5, 'e'),
    (2, NULL, 6, 'f'),
    (NULL, TIMESTAMP '2024-01-02 00:00:00', 7, 'g'),
    (NULL, TIMESTAMP '2024-01-03 00:00:00', 8, 'h'),
    (3, TIMESTAMP '2024-01-01 09:00:00', 9, NULL);
CREATE TABLE t (k INT, v INT, flag BOOLEAN, x INT, ts TIMESTAMP, doc JSON);
INSERT INTO t VALUES
    (1, 1, true, 0, TIMESTAMP '2024-01-01 10:00:00.123', '{{"a": 1}}'),
    (1, 5, NULL, 255, TIMESTAMP '2024-01-01 10:00:00', '{{"a": 2}}'),
    (2, 7, NULL, 17, NULL, NULL),
    (2, NULL, false, NULL, TIMESTAMP '2000-02-29 00:00:01', '{{"a": null}}'),
    (3, 2, true, 3, TIMESTAMP '1999-12-31 23:59:59.5', '{{"a": 3}}');
CREATE TABLE people (id INT, name VARCHAR, city VARCHAR, score INT, tags VARCHAR[]);
INSERT INTO people VALUES
    (1, 'ann', 'oslo', 3, ['x', 'y']),
    (2, 'bob', NULL, 3, ['bob', NULL]),
    (3, 'ann', 'oslo', 3, CAST([] AS VARCHAR[])),
    (4, 'a', 'bc', NULL, NULL),
    (5, 'ab', 'c', NULL, [NULL]),
    (6, NULL, NULL, NULL, ['x']);
CREATE TABLE wide ({WIDE});
INSERT INTO wide VALUES ({", ".join(["1"] * 60)}), ({", ".join(["1"] * 60)}),
    ({", ".join(["1"] * 59)}, 2), ({", ".join(["NULL"] * 60)});
CREATE TABLE items (id INT, name VARCHAR, op VARCHAR, v VARCHAR, deleted BOOLEAN,
    changed TIMESTAMPTZ, _sluiceway_deleted_at TIMESTAMPTZ);
INSERT INTO items VALUES
    (1, 'apple', 'I', 'one', false, NULL, NULL),
    (2, 'avocado', 'D', 'two', false, NULL, NULL),
    (3, 'banana', 'delete', 'three', false, NULL, NULL),
    (4, 'a%b', 'U', 'four', false, NULL, NULL),
    (5, '100%x', NULL, 'five', NULL, NULL, TIMESTAMPTZ '2024-01-01 00:00:00+00');
CREATE TABLE "_sluiceway_staging"."items" (id INT, v VARCHAR, __sluiceway_seq INT);
INSERT INTO "_sluiceway_staging"."items" VALUES
    (1, 'old', 1), (1, 'new', 3), (2, 'x', 2), (NULL, 'n1', 4), (NULL, 'n2', 5);
CREATE TABLE "_sluiceway_staging"."items__latest" (id INT, v VARCHAR, deleted BOOLEAN,
    changed TIMESTAMPTZ, _sluiceway_unchanged VARCHAR[]);
INSERT INTO "_sluiceway_staging"."items__latest" VALUES
    (1, NULL, true, TIMESTAMPTZ '2024-03-01 00:00:00+00', ['v']),
    (2, 'TWO', NULL, NULL, CAST([] AS VARCHAR[])),
    (3, NULL, false, NULL, ['name', 'v']),
    (4, 'FOUR', true, NULL, NULL),
    (9, 'NINE', true, NULL, ['v']);
CREATE TABLE "main"."sales" (id INT, day DATE);
INSERT INTO "main"."sales" VALUES (1, DATE '2024-01-05'), (2, DATE '2024-02-05'), (3, NULL),
    (4, DATE '2024-03-31');
CREATE TABLE "_sluiceway_staging"."sales" (id INT, day DATE);
INSERT INTO "_sluiceway_staging"."sales" VALUES (10, DATE '2024-01-20'), (11, NULL);
CREATE TABLE "_sluiceway_staging"."dim" (k INT, v VARCHAR, ts TIMESTAMP, gone BOOLEAN,
    __sluiceway_seq INT);
INSERT INTO "_sluiceway_staging"."dim" VALUES
    (1, 'a', TIMESTAMP '2024-01-01 00:00:00', false, 1),
    (1, 'b', TIMESTAMP '2024-01-01 00:00:00', NULL, 2),
    (1, 'c', NULL, true, 3),
    (2, 'd', NULL, false, 4),
    (2, 'e', NULL, false, 5);
CREATE TABLE "_sluiceway_staging"."dim__inc0" (id INT, city VARCHAR, __vf TIMESTAMP,
    __del BOOLEAN);
INSERT INTO "_sluiceway_staging"."dim__inc0" VALUES
    (1, 'oslo', TIMESTAMP '2024-01-01 00:00:00', false),
    (2, 'oslo', TIMESTAMP '2024-01-01 00:00:00', false),
    (3, NULL, TIMESTAMP '2024-01-01 00:00:00', false),
    (4, 'rome', TIMESTAMP '2024-01-01 00:00:00', true);
CREATE TABLE "_sluiceway_staging"."dim__old" (k INT, v VARCHAR, valid_from TIMESTAMP,
    valid_to TIMESTAMP, __hash VARCHAR);
INSERT INTO "_sluiceway_staging"."dim__old" VALUES
    (1, 'a', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', 'ha'),
    (1, 'b', TIMESTAMP '2024-02-01 00:00:00', NULL, 'hb'),
    (2, 'x', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-15 00:00:00', 'hx');
CREATE TABLE "_sluiceway_staging"."dim__inc" (k INT, v VARCHAR, __vf TIMESTAMP, __del BOOLEAN,
    __hash VARCHAR);
INSERT INTO "_sluiceway_staging"."dim__inc" VALUES
    (1, 'b', TIMESTAMP '2024-03-01 00:00:00', false, 'hb'),
    (1, 'c', TIMESTAMP '2024-02-01 00:00:00', false, 'hc'),
    (2, NULL, TIMESTAMP '2024-03-01 00:00:00', true, '(deleted)'),
    (3, 'z', TIMESTAMP '2024-03-01 00:00:00', false, 'hz');
CREATE TABLE "_sluiceway_staging"."dim__tl" (k INT, __vf TIMESTAMP, __vt TIMESTAMP, __src INT,
    __del BOOLEAN);
INSERT INTO "_sluiceway_staging"."dim__tl" VALUES
    (1, TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-03-01 00:00:00', 0, false),
    (1, TIMESTAMP '2024-03-01 00:00:00', NULL, 1, false),
    (2, TIMESTAMP '2024-01-01 00:00:00', NULL, 0, false);
CREATE TABLE "main"."dim" (k INT, v VARCHAR, valid_from TIMESTAMP, valid_to TIMESTAMP,
    is_current BOOLEAN);
INSERT INTO "main"."dim" VALUES
    (1, 'a', TIMESTAMP '2024-01-01 00:00:00', NULL, true),
    (2, 'x', TIMESTAMP '2024-01-01 00:00:00', NULL, true)
"""


class Engines:
    """One PostgreSQL database and one DuckDB, fed the same DuckDB-dialect SQL."""

    def __init__(self, pg: psycopg.Connection[Any], duck: duckdb.DuckDBPyConnection) -> None:
        self.pg = pg
        self.duck = duck

    def execute(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> None:
        self.duck.execute(sql, params)
        with self.pg.cursor() as cursor:
            cursor.execute(compile_sql(sql, "postgres", params=params is not None), params)

    def script(self, sql: str) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                self.execute(statement)

    def fetch(
        self, sql: str, params: dict[str, Any] | list[Any] | None = None
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str], list[str]]:
        """(PostgreSQL rows, DuckDB rows, PostgreSQL column names, DuckDB column names)."""
        result = self.duck.execute(sql, params)
        duck_rows = result.fetchall()
        duck_names = [d[0] for d in result.description or ()]
        with self.pg.cursor() as cursor:
            cursor.execute(compile_sql(sql, "postgres", params=params is not None), params)
            pg_rows = cursor.fetchall()
            pg_names = [d.name for d in cursor.description or ()]
        return pg_rows, duck_rows, pg_names, duck_names

    def same(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> list[Any]:
        """Both engines' rows, normalised, order aside; asserted equal. Returns them."""
        pg_rows, duck_rows, pg_names, _ = self.fetch(sql, params)
        in_pg, in_duck = rows(pg_rows, pg_names), rows(duck_rows, pg_names)
        assert in_pg == in_duck, sql
        return in_pg


def value(v: Any) -> Any:
    """A value as both drivers can agree on it."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else round(float(v), 9)
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.astimezone(UTC)
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return value(json.loads(v))
        except ValueError:
            return v
    if isinstance(v, dict):
        return {k: value(v[k]) for k in sorted(v)}
    if isinstance(v, list | tuple):
        return [value(x) for x in v]
    return v


def rows(raw: list[tuple[Any, ...]], names: list[str], *, ordered: bool = False) -> list[Any]:
    normalised = [tuple(value(v) for v in row) for row in raw]
    hashed = {i for i, name in enumerate(names) if name in HASHES}
    if hashed:
        normalised = _hash_pattern(normalised, hashed)
    return normalised if ordered else sorted(normalised, key=repr)


def _hash_pattern(found: list[tuple[Any, ...]], hashed: set[int]) -> list[tuple[Any, ...]]:
    """Each hash replaced by what identifies its class of rows in any engine: the other values
    of every row holding it."""

    def rest(row: tuple[Any, ...]) -> str:
        return repr([v for i, v in enumerate(row) if i not in hashed])

    holders: dict[tuple[int, Any], list[str]] = {}
    for row in found:
        for i in hashed:
            holders.setdefault((i, row[i]), []).append(rest(row))
    return [
        tuple(sorted(holders[(i, v)]) if i in hashed else v for i, v in enumerate(row))
        for row in found
    ]


@pytest.fixture
def engines(pg_url: str) -> Iterator[Engines]:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        # DuckDB's default schema is "main": unqualified names land there in both engines.
        pg.execute('CREATE SCHEMA IF NOT EXISTS "main"')
        pg.execute('SET search_path TO "main", public')
        both = Engines(pg, duck)
        both.script(SETUP)
        yield both
    duck.close()


def _target(tree: exp.Expr) -> exp.Table:
    table = tree.find(exp.Table)
    assert table is not None
    bare = table.copy()
    bare.set("alias", None)
    return bare


def _parameters(name: str, sql: str) -> dict[str, Any] | list[Any] | None:
    if name in POSITIONAL:
        return POSITIONAL[name]
    wanted = {p.name for p in parse_sql(sql).find_all(exp.Placeholder)}
    return {k: v for k, v in PARAMS.items() if k in wanted} or None


@pytest.mark.parametrize("name", CASES)
def test_golden_gives_duckdbs_rows_on_postgres(engines: Engines, name: str) -> None:
    sql = (GOLDEN / f"{name}.duckdb.sql").read_text(encoding="utf-8")
    params = _parameters(name, sql)
    tree = parse_sql(sql)
    if isinstance(tree, exp.Query):
        pg_rows, duck_rows, pg_names, _ = engines.fetch(sql, params)
        ordered = name in ORDERED
        assert rows(pg_rows, pg_names, ordered=ordered) == rows(
            duck_rows, pg_names, ordered=ordered
        )
        assert pg_rows, "a golden query should find rows, or it proves little"
        return
    target = exp.select("*").from_(_target(tree)).sql("duckdb")
    if isinstance(tree, exp.Create):
        engines.execute(f"DROP TABLE IF EXISTS {_target(tree).sql('duckdb')}")
        before = None
    else:
        before = engines.same(target)
    engines.execute(sql, params)
    pg_rows, duck_rows, pg_names, duck_names = engines.fetch(target)
    assert rows(pg_rows, pg_names) == rows(duck_rows, pg_names)
    assert pg_names == duck_names  # CREATE TABLE AS: no helper column leaks in
    if isinstance(tree, exp.Update | exp.Delete):
        assert rows(pg_rows, pg_names) != before, "the statement should change something"


def test_group_by_all_groups_on_every_plain_expression(engines: Engines) -> None:
    found = engines.same(
        "SELECT region, kind, count(*) AS n, sum(amount) AS total FROM orders GROUP BY ALL"
    )
    assert len(found) == 4  # (east, web) (west, shop) (west, web) (NULL, shop)
    assert engines.same("SELECT count(*) AS n FROM orders WHERE false GROUP BY ALL") == [(0,)]
    # An expression without columns is not grouped on (DuckDB's choice): one row over none.
    found = engines.same(
        "SELECT 'x' AS k, $p AS p, count(*) FROM orders WHERE false GROUP BY ALL", {"p": 1}
    )
    assert found == [("x", 1, 0)]


def test_qualify_keeps_the_last_row_per_key_with_ties_and_nulls(engines: Engines) -> None:
    last = engines.same(
        "SELECT k, seq, v FROM events "
        "QUALIFY row_number() OVER (PARTITION BY k ORDER BY ts DESC, seq DESC) = 1"
    )
    # k=1: the 12:00 tie goes to the higher seq, the NULL time sorts last (DuckDB's default);
    # k=2: only NULL times, so seq decides; the NULL key is one group of its own.
    assert last == [(1, 3, "c"), (2, 6, "f"), (3, 9, None), (None, 8, "h")]
    # Not the plain "= 1" form: the general rewrite, same answer.
    first = engines.same(
        "SELECT k, seq FROM events "
        "QUALIFY row_number() OVER (PARTITION BY k ORDER BY ts, seq) = 1 AND true"
    )
    assert first == [(1, 1), (2, 5), (3, 9), (None, 7)]
    # A tie without a tie-breaker: either row may win, but its time is the same in both.
    engines.same(
        "SELECT k, ts FROM events QUALIFY row_number() OVER (PARTITION BY k ORDER BY ts) = 1"
    )
    nulls_first = engines.same(
        "SELECT k, seq FROM events "
        "QUALIFY row_number() OVER (PARTITION BY k ORDER BY ts DESC NULLS FIRST, seq) = 1"
    )
    assert nulls_first == [(1, 4), (2, 5), (3, 9), (None, 8)]


def test_qualify_into_a_table_has_exactly_the_selected_columns(engines: Engines) -> None:
    for sql in (
        "CREATE TABLE last_event AS SELECT e.* FROM events AS e "
        "QUALIFY row_number() OVER (PARTITION BY e.k ORDER BY e.seq DESC) = 1",
        "CREATE TABLE ranked AS SELECT k, seq FROM events "
        "QUALIFY rank() OVER (PARTITION BY k ORDER BY ts DESC) = 1",
    ):
        engines.execute(sql)
    for table, columns in (("last_event", ["k", "ts", "seq", "v"]), ("ranked", ["k", "seq"])):
        _, _, pg_names, duck_names = engines.fetch(f"SELECT * FROM {table}")
        assert pg_names == duck_names == columns
        engines.same(f"SELECT * FROM {table}")


def test_equal_rows_hash_equal_and_different_rows_differently(engines: Engines) -> None:
    sql = (
        "SELECT id, md5(CAST(to_json(struct_pack(name := name, city := city, score := score)) "
        "AS VARCHAR)) AS hash FROM people ORDER BY id"
    )
    pg_rows, duck_rows, _, _ = engines.fetch(sql)
    for found in (pg_rows, duck_rows):
        by_id = dict(found)
        assert by_id[1] == by_id[3]  # the same name, city and score
        assert by_id[4] != by_id[5]  # ('a', 'bc') and ('ab', 'c'): no concatenation collision
        assert by_id[2] != by_id[6]  # a NULL city is not a NULL name
        assert len(set(by_id.values())) == 5
    assert rows(pg_rows, ["id", "hash"]) == rows(duck_rows, ["id", "hash"])


def test_list_length_and_membership_follow_duckdb_on_nulls(engines: Engines) -> None:
    found = engines.same(
        "SELECT id, len(tags), list_contains(tags, 'x'), list_contains(tags, name), "
        "list_contains(tags, NULL) FROM people ORDER BY id"
    )
    assert found == [
        (1, 2, True, False, None),
        (2, 2, False, True, None),
        (3, 0, False, False, None),
        (4, None, None, None, None),
        (5, 1, False, False, None),
        (6, 1, True, None, None),
    ]


def test_count_if_is_null_over_nothing_as_in_duckdb(engines: Engines) -> None:
    found = engines.same("SELECT k, count_if(flag), count_if(v > 1) FROM t GROUP BY k")
    assert found == [(1, 1, 1), (2, 0, 1), (3, 1, 1)]
    assert engines.same("SELECT count_if(flag) FROM t WHERE false") == [(None,)]
    assert engines.same("SELECT count_if(flag) FROM t WHERE flag IS NULL") == [(None,)]


TYPES = """
CREATE TABLE typed (
    big HUGEINT, ubig UHUGEINT, u8 UTINYINT, u16 USMALLINT, u32 UINTEGER, u64 UBIGINT,
    i8 TINYINT, ns TIMESTAMP_NS, ms TIMESTAMP_MS, s TIMESTAMP_S, tz TIMESTAMPTZ, d DOUBLE,
    bin BLOB, txt VARCHAR, ints INT[], doc JSON, id UUID, rec STRUCT(a INT, b VARCHAR),
    f FLOAT, names VARCHAR[], m MAP(VARCHAR, INT), dec DECIMAL(10, 2), dflt DECIMAL,
    u64s UBIGINT[], short VARCHAR(3)
)
"""
TYPED_ROW = {
    "big": 170141183460469231731687303715884105727,
    "ubig": 340282366920938463463374607431768211455,
    "u8": 255,
    "u16": 65535,
    "u32": 4294967295,
    "u64": 18446744073709551615,
    "i8": -128,
    "ns": datetime(2024, 1, 2, 3, 4, 5, 123456),
    "ms": datetime(2024, 1, 2, 3, 4, 5, 123000),
    "s": datetime(2024, 1, 2, 3, 4, 5),
    "tz": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "d": 1.5,
    "bin": b"\x00\xff%",
    "txt": "50% off",
    "ints": [1, None, 3],
    "doc": {"a": [1, 2], "b": None},
    "id": "123e4567-e89b-12d3-a456-426614174000",
    "rec": {"a": 1, "b": "x"},
    "f": 0.5,
    "names": ["a", "b"],
    "dec": Decimal("12345678.91"),
    "dflt": Decimal("1.125"),
    "u64s": [18446744073709551615],
    "short": "longer than three",
}

PG_TYPES = {
    "big": "numeric(39,0)",
    "ubig": "numeric(39,0)",
    "u8": "smallint",
    "u16": "integer",
    "u32": "bigint",
    "u64": "numeric(20,0)",
    "i8": "smallint",
    "ns": "timestamp without time zone",
    "ms": "timestamp without time zone",
    "s": "timestamp without time zone",
    "tz": "timestamp with time zone",
    "d": "double precision",
    "bin": "bytea",
    "txt": "text",
    "ints": "integer[]",
    "doc": "jsonb",
    "id": "uuid",
    "rec": "jsonb",
    "f": "real",
    "names": "text[]",
    "m": "jsonb",
    "dec": "numeric(10,2)",
    "dflt": "numeric(18,3)",
    "u64s": "numeric(20,0)[]",
    "short": "text",
}


def test_duckdb_types_round_trip_through_postgres(engines: Engines) -> None:
    engines.execute(TYPES)
    literals = (
        "170141183460469231731687303715884105727, 340282366920938463463374607431768211455, "
        "255, 65535, 4294967295, 18446744073709551615, -128, "
        "TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMP '2024-01-02 03:04:05.123', "
        "TIMESTAMP '2024-01-02 03:04:05', TIMESTAMPTZ '2024-01-02 03:04:05+00', 1.5, $bin, "
        "'50% off', [1, NULL, 3], '{\"a\": [1, 2], \"b\": null}', "
        "'123e4567-e89b-12d3-a456-426614174000', {'a': 1, 'b': 'x'}, 0.5, ['a', 'b'], "
        "NULL, 12345678.91, 1.125, [18446744073709551615], 'longer than three'"
    )
    engines.execute(f"INSERT INTO typed VALUES ({literals})", {"bin": TYPED_ROW["bin"]})
    pg_rows, duck_rows, pg_names, duck_names = engines.fetch("SELECT * FROM typed")
    assert pg_names == duck_names == list(PG_TYPES)
    assert rows(pg_rows, pg_names) == rows(duck_rows, pg_names)
    found = dict(zip(pg_names, rows(pg_rows, pg_names)[0], strict=True))
    expected = {k: value(v) for k, v in TYPED_ROW.items()}
    assert {k: str(v) if k == "id" else v for k, v in found.items() if k != "m"} == expected
    types = dict(
        engines.pg.execute(
            "SELECT column_name, format_type(atttypid, atttypmod) FROM pg_attribute "
            "JOIN information_schema.columns ON attname = column_name "
            "WHERE attrelid = 'typed'::regclass AND table_name = 'typed'"
        ).fetchall()
    )
    assert types == PG_TYPES


def test_percent_signs_survive_bound_parameters(engines: Engines) -> None:
    sql = "SELECT id FROM items WHERE (name LIKE '%!%%' ESCAPE '!' OR name LIKE $p) AND id % 2 = 1"
    assert engines.same(sql, {"p": "b%"}) == [(3,), (5,)]
    assert engines.same("SELECT id FROM items WHERE name LIKE ? AND id > ?", ["a%", 1]) == [
        (2,),
        (4,),
    ]


class CompiledRunner:
    """A ``SqlRunner`` on psycopg that renders through the compile step (``render``)."""

    dialect = "postgres"

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def fetch(self, query: exp.Expr) -> pa.Table:
        with self._connection.cursor() as cursor:
            cursor.execute(render(query, self.dialect))
            names = [d.name for d in cursor.description or ()]
            found = cursor.fetchall()
        if not found:
            return pa.table({n: pa.array([], pa.null()) for n in names})
        return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in found])

    def execute(self, statement: exp.Expr) -> int:
        with self._connection.cursor() as cursor:
            cursor.execute(render(statement, self.dialect))
            return max(int(cursor.rowcount), 0)


def test_quality_rules_count_the_same_through_the_compile_step(pg_url: str) -> None:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    duck = DuckDBRunner(duckdb.connect())
    create_all(duck)
    with psycopg.connect(dsn, autocommit=True) as connection:
        runner = CompiledRunner(connection)
        create_all(runner)
        in_postgres = check_table(runner, "orders", ORDER_RULES)
    assert failing(in_postgres) == ORDER_FAILING
    assert failing(check_table(duck, "orders", ORDER_RULES)) == ORDER_FAILING

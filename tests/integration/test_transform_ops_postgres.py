"""Every operation case gives the same rows on DuckDB and on a real PostgreSQL.

The input tables of ``tests/unit/transform_ops/_tables.yaml`` are created in both engines from
the same rows (one pylist: an Arrow table for DuckDB, bound parameters for PostgreSQL, where a
STRUCT is JSONB). Each case's chain is compiled once and rendered per engine by ``to_sql``;
the rows must match, order aside (numbers within a tolerance, times in UTC), and the column
names too. A few cases also pin the answer itself, so that both engines being wrong the same
way would show.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlglot import exp

from sluiceway.core.sql_compile import compile_sql
from sluiceway.transform.ops import to_sql
from tests.unit.test_transform_ops import (
    CASES,
    compile_case,
    compile_example,
    doc_examples,
    load_case,
    load_tables,
)

pytestmark = pytest.mark.integration

TABLES = load_tables()
Rows = list[tuple[Any, ...]]


class Engines:
    """One DuckDB and one PostgreSQL database holding the same input tables."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection[Any]) -> None:
        self.duck = duck
        self.pg = pg

    def create(self, name: str, columns: dict[str, str], rows: list[list[Any]]) -> None:
        definition = exp.Create(
            kind="TABLE",
            this=exp.Schema(
                this=exp.to_table(name, quoted=True),
                expressions=[
                    exp.ColumnDef(
                        this=exp.to_identifier(column, quoted=True),
                        kind=exp.DataType.build(kind, dialect="duckdb"),
                    )
                    for column, kind in columns.items()
                ],
            ),
        )
        self.duck.execute(definition.sql("duckdb"))
        self.pg.execute(compile_sql(definition, "postgres"))
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        arrow = pa.Table.from_pylist(records)  # noqa: F841 - DuckDB reads it by name
        self.duck.execute(f'INSERT INTO "{name}" SELECT * FROM arrow')
        structs = [c for c, kind in columns.items() if kind.upper().startswith("STRUCT")]
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(name),
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join(sql.Placeholder() for _ in columns),
        )
        with self.pg.cursor() as cursor:
            cursor.executemany(
                insert,
                [
                    [Jsonb(v) if c in structs and v is not None else v for c, v in r.items()]
                    for r in records
                ],
            )

    def run(self, query: exp.Select) -> tuple[list[str], Rows, list[str], Rows]:
        """(DuckDB's column names, its rows, PostgreSQL's names, its rows)."""
        result = self.duck.execute(to_sql(query, "duckdb"))
        duck_names = [d[0] for d in result.description or ()]
        duck_rows = result.fetchall()
        with self.pg.cursor() as cursor:
            cursor.execute(to_sql(query, "postgres"))
            pg_names = [d.name for d in cursor.description or ()]
            pg_rows = cursor.fetchall()
        return duck_names, duck_rows, pg_names, pg_rows


@pytest.fixture
def engines(pg_url: str) -> Iterator[Engines]:
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        both = Engines(duck, pg)
        for name, table in TABLES.items():
            both.create(name, table["columns"], table["rows"])
        yield both
    duck.close()


def value(v: Any) -> Any:
    """A value as both drivers can agree on it: numbers as floats, times in UTC."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float | Decimal):
        return float(v)
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, dict):
        return {k: value(v[k]) for k in sorted(v)}
    if isinstance(v, list | tuple):
        return [value(x) for x in v]
    return v


def _sort_key(row: tuple[Any, ...]) -> str:
    return repr([round(v, 6) if isinstance(v, float) else v for v in row])


def normalised(rows: Rows, *, ordered: bool = False) -> Rows:
    found = [tuple(value(v) for v in row) for row in rows]
    return found if ordered else sorted(found, key=_sort_key)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def assert_same_rows(engines: Engines, query: exp.Select, *, ordered: bool = False) -> None:
    duck_names, duck_rows, pg_names, pg_rows = engines.run(query)
    assert pg_names == duck_names
    in_duck, in_pg = normalised(duck_rows, ordered=ordered), normalised(pg_rows, ordered=ordered)
    assert len(in_pg) == len(in_duck), (in_duck, in_pg)
    for duck_row, pg_row in zip(in_duck, in_pg, strict=True):
        assert same(duck_row, pg_row), f"DuckDB {duck_row} != PostgreSQL {pg_row}"
    assert duck_rows, "a case should give rows, or it proves little"


@pytest.mark.parametrize("name", CASES)
def test_a_case_gives_the_same_rows_on_both_engines(engines: Engines, name: str) -> None:
    ordered = bool(load_case(name).get("ordered", False))
    assert_same_rows(engines, compile_case(name), ordered=ordered)


@pytest.mark.parametrize("number", range(len(doc_examples())))
def test_a_docs_example_gives_the_same_rows_on_both_engines(engines: Engines, number: int) -> None:
    assert_same_rows(engines, compile_example(doc_examples()[number]))


def rows_of(engines: Engines, name: str) -> list[dict[str, Any]]:
    """DuckDB's rows of a case as dicts (the equality test holds them equal to PostgreSQL's)."""
    names, found, _, _ = engines.run(compile_case(name))
    return [dict(zip(names, row, strict=True)) for row in found]


def test_safe_casts_give_null_for_text_that_does_not_look_like_the_type(
    engines: Engines,
) -> None:
    by_id = {row["id"]: row for row in rows_of(engines, "cast_safe")}
    assert (by_id[1]["n"], by_id[1]["x"], by_id[1]["d"]) == (42, 3.5, date(2024, 1, 31))
    assert (by_id[2]["n"], by_id[2]["x"], by_id[2]["d"], by_id[2]["b"]) == (
        -7,
        1000.0,
        date(2024, 2, 29),
        True,
    )
    assert by_id[2]["ts"] == datetime(2024, 2, 29, 23, 59, 59, 500000)
    assert (by_id[3]["n"], by_id[3]["x"], by_id[3]["d"], by_id[3]["ts"], by_id[3]["b"]) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert (by_id[4]["n"], by_id[4]["x"], by_id[4]["d"], by_id[4]["b"]) == (None, 0.5, None, False)
    assert (by_id[5]["x"], by_id[5]["b"]) == (-2.0, False)


def test_resampling_fills_every_gap(engines: Engines) -> None:
    daily = {
        (r["sensor"], r["ts"].day): (r["total"], r["n"])
        for r in rows_of(engines, "resample_daily_zero")
    }
    # s1 spans 1..6 January, s2 2..5; the reading with a NULL time is left out.
    assert sorted(daily) == [("s1", d) for d in range(1, 7)] + [("s2", d) for d in range(2, 6)]
    assert daily[("s1", 1)] == (3.0, 2)
    assert daily[("s1", 2)] == (0, 0)
    assert daily[("s1", 4)] == (0, 1)  # a row whose value is NULL: counted, summed to NULL → 0
    forward = {(r["sensor"], r["ts"]): r["last_max"] for r in rows_of(engines, "resample_forward")}
    assert forward[("s1", datetime(2024, 1, 1, 12))] == 2.0  # a gap takes the value before it
    assert forward[("s1", datetime(2024, 1, 4, 0))] == 4.0  # so does a bucket of NULLs
    weekly = {r["ts"]: r["readings"] for r in rows_of(engines, "resample_weekly")}
    assert weekly == {
        datetime(2023, 12, 18): None,  # Mondays, from the week holding `start`
        datetime(2023, 12, 25): None,
        datetime(2024, 1, 1): 7,
    }
    monthly = rows_of(engines, "resample_monthly")
    assert sorted(r["order_day"] for r in monthly) == [date(2023, 12, 1)] + [
        date(2024, m, 1) for m in range(1, 8)
    ]


def test_features_answer_as_documented(engines: Engines) -> None:
    ages = {r["customer"]: r["age"] for r in rows_of(engines, "age")}
    # Born 30 June: 34 on 30 June 2024; 1 July: not yet 39; 29 February: 24 on 30 June.
    assert ages == {"ann": 34, "bob": 38, "cid": 24, "dee": None, "fay": 20}
    days = {r["customer"]: r["days_since_signup"] for r in rows_of(engines, "days_since")}
    assert days["fay"] == 1
    assert days["dee"] is None
    segments = {r["customer"]: r["rfm_segment"] for r in rows_of(engines, "rfm")}
    assert len(segments) == 6
    assert all(len(s) == 3 and set(s) <= set("123") for s in segments.values())
    bins = {r["id"]: (r["size"], r["qty_bin"]) for r in rows_of(engines, "bin_edges")}
    assert bins[1] == ("medium", 1)  # 20.0 in [10, 50); qty 2 in (0, 2]
    assert bins[5] == ("small", None)
    assert bins[8] == (None, 1)
    equal = {r["id"]: (r["amount_bin"], r["qty_level"]) for r in rows_of(engines, "bin_count")}
    assert equal[10] == (4, "low")  # the maximum amount is in the last bin
    assert equal[9][1] == "high"  # the maximum qty too
    assert equal[3] == (1, "low")  # qty 3 of 1..10: (1, 4] is the first of three bins
    assert equal[4] == (3, "mid")  # qty 7 closes the second bin, (4, 7]

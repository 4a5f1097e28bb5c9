"""The cleaning SQL on PostgreSQL gives what it gives on DuckDB, value for value.

Each string operation is compiled for PostgreSQL and for DuckDB and run over the same messy
values in both; the answers must match each other and what the :class:`Cleaner` (DuckDB, over
Arrow) makes of those values. Dedupe runs on both engines over the same staged rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from sluiceway.quality.cleaning import Cleaner, compile_op, dedupe_query
from sluiceway.quality.sql import DuckDBRunner, SqlRunner
from sluiceway.spec.cleaning import CleaningSpec, DedupeSpec

pytestmark = pytest.mark.integration

NBSP = "\u00a0"
VALUES: list[str | None] = [
    None,
    "",
    " ",
    "  a  b ",
    "\tx\n",
    f"{NBSP}y{NBSP}",
    "a \t\n b",
    "john smith",
    "O'NEIL",
    "mary-jane",
    "3rd street",
    "x_y z",
    "élise",
    "ÉCOLE normale",
    "o\u2019neil",
    "\u0391\u0398\u0397\u039d\u0391",
    "москва",
    "calif.",
    " N.Y. ",
    "W. Va.",
    "washington, d.c.",
    "West\tVirginia",
    "puerto rico",
    "Atlantis",
    "N/A",
    " null ",
    "-",
    "?",
    "unknown",
    "Y",
    " no ",
    "TRUE",
    "t",
    "0",
    "maybe",
    "(555) 234-5678",
    "+1 555.234.5678",
    "1-555-234-5678",
    "555-234-5678 ext 9",
    "+44 20 7946 0958",
    " Ann@X.COM ",
    "a1b22",
    "ann@host",
]

OPERATIONS: list[Any] = [
    "trim",
    "collapse_whitespace",
    "lower",
    "upper",
    "title",
    "email",
    "us_state",
    "null_tokens",
    {"null_tokens": ["?", "unknown", "a.b"]},
    {"replace": {"pattern": "[0-9]+", "with": "#"}},
    {"replace": {"pattern": "^([a-z]+)@([a-z]+)$", "with": "\\2 at \\1"}},
    "boolean",
    "phone",
]


def values_source(values: Sequence[str | None]) -> exp.Expr:
    rows = [
        exp.Tuple(
            expressions=[
                exp.Literal.number(i),
                exp.Literal.string(v) if v is not None else exp.cast(exp.null(), "VARCHAR"),
            ]
        )
        for i, v in enumerate(values)
    ]
    return exp.values(rows, alias="t", columns=["id", "x"])


def run_op(runner: SqlRunner, op: Any) -> list[Any]:
    x = exp.column("x", quoted=True)
    query = (
        exp.select(
            exp.column("id", quoted=True), compile_op(op, x, dialect=runner.dialect).as_("y")
        )
        .from_(values_source(VALUES))
        .order_by(exp.column("id", quoted=True))
    )
    return list(runner.fetch(query)["y"].to_pylist())


@pytest.mark.parametrize("written", OPERATIONS, ids=[json.dumps(w) for w in OPERATIONS])
def test_string_operations_agree_with_duckdb(pg_runner: SqlRunner, written: Any) -> None:
    op = CleaningSpec.model_validate({"x": [written]}).root["x"][0]
    on_postgres = run_op(pg_runner, op)
    con = duckdb.connect()
    try:
        on_duckdb = run_op(DuckDBRunner(con), op)
    finally:
        con.close()
    with Cleaner(CleaningSpec.model_validate({"x": [written]})) as cleaner:
        rows = pa.table({"x": pa.array(VALUES, pa.string())})
        reader = pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches())
        by_cleaner = cleaner.apply(reader).read_all()["x"].to_pylist()
    assert on_postgres == on_duckdb
    assert on_duckdb == by_cleaner
    # The operation did something to these values, so the agreement is not vacuous.
    assert on_duckdb != VALUES


def test_dedupe_keeps_the_same_rows_on_both_engines(pg_runner: SqlRunner) -> None:
    rows = [(1, 5, 0), (1, 9, 1), (1, None, 2), (1, 9, 3), (2, None, 4), (2, None, 5), (3, 1, 6)]
    table = exp.Table(this=exp.to_identifier("staged", quoted=True))
    create = sqlglot.parse_one(
        'CREATE TABLE "staged" ("k" INTEGER, "updated_at" INTEGER, "seq" INTEGER)', read="duckdb"
    )
    insert = exp.insert(
        exp.values(
            [tuple(exp.null() if v is None else exp.Literal.number(v) for v in row) for row in rows]
        ),
        table,
    )
    con = duckdb.connect()
    try:
        duck = DuckDBRunner(con)
        for runner in (pg_runner, duck):
            runner.execute(create)
            runner.execute(insert)
        for keep in ("last", "first"):
            for order_by in ({"order_by": "updated_at"}, {}):
                spec = DedupeSpec.model_validate({"key": ["k"], "keep": keep, **order_by})
                query = dedupe_query(table, spec, "seq")
                picked = [sorted(r.fetch(query)["seq"].to_pylist()) for r in (pg_runner, duck)]
                assert picked[0] == picked[1], (keep, order_by)
                if keep == "last" and order_by:
                    # Highest updated_at wins, ties go to the later row, NULLs lose.
                    assert picked[0] == [3, 5, 6]
    finally:
        con.close()

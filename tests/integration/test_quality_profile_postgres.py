"""The same table profiled in PostgreSQL and in DuckDB gives the same profile.

The sample rows and the comparison come from the DuckDB unit tests. String order (min, max,
ties among top values) follows the database's collation; the throwaway databases use the
server's default, C.UTF-8 here, which orders like DuckDB.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from sluiceway.quality.profile import (
    PATTERN_SAMPLE,
    TableProfile,
    pattern_expression,
    profile_table,
)
from sluiceway.quality.sql import DuckDBRunner
from tests.integration.conftest import PsycopgRunner
from tests.unit.test_quality_profile import (
    SAMPLE_COLUMNS,
    create_table,
    pattern_of,
    same,
    sample_rows,
)

pytestmark = pytest.mark.integration


def create_in_postgres(runner: PsycopgRunner, rows: list[tuple[Any, ...]]) -> None:
    columns = [
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t))
        for c, t in SAMPLE_COLUMNS
    ]
    table = exp.Schema(this=exp.table_("sample", quoted=True), expressions=columns)
    runner.execute(exp.Create(this=table, kind="TABLE"))
    runner.execute(exp.insert(exp.values(rows), exp.table_("sample", quoted=True)))


class Recording(PsycopgRunner):
    """The PostgreSQL runner, keeping the SQL of the queries it runs."""

    def __init__(self, inner: PsycopgRunner) -> None:
        super().__init__(inner._connection)
        self.queries: list[str] = []

    def fetch(self, query: exp.Expr) -> pa.Table:
        self.queries.append(query.sql(self.dialect))
        return super().fetch(query)


def comparable(profile: TableProfile) -> dict[str, Any]:
    data = profile.to_dict()
    del data["profiled_at"]
    return data


def test_postgres_profile_equals_duckdb_profile(pg_runner: PsycopgRunner) -> None:
    rows = sample_rows(1200, seed=11)
    create_in_postgres(pg_runner, rows)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_table(con, "sample", rows)
    table = exp.table_("sample", quoted=True)

    recording = Recording(pg_runner)
    in_postgres = comparable(profile_table(recording, table, table="sample"))
    in_duckdb = comparable(profile_table(DuckDBRunner(con), table, table="sample"))
    # types, row count, type probe for the column that is NULL in the first row, aggregates,
    # value groups
    assert len(recording.queries) == 4

    # An all-NULL column has no type PostgreSQL's rows can tell (this runner builds Arrow
    # from Python values); its counts still agree.
    nothing_pg, nothing_duck = in_postgres["columns"].pop(), in_duckdb["columns"].pop()
    assert nothing_pg["name"] == nothing_duck["name"] == "nothing"
    assert (nothing_pg["count"], nothing_pg["nulls"]) == (0, len(rows))
    assert (nothing_duck["count"], nothing_duck["nulls"]) == (0, len(rows))
    for pg_column, duck_column in zip(in_postgres["columns"], in_duckdb["columns"], strict=True):
        assert same(pg_column, duck_column), pg_column["name"]
    assert same(in_postgres, in_duckdb)


def test_a_load_query_profiles_the_same_rows(pg_runner: PsycopgRunner) -> None:
    rows = sample_rows(300, seed=5)
    create_in_postgres(pg_runner, rows)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_table(con, "sample", rows)
    load = exp.select("*").from_(exp.table_("sample", quoted=True)).where("id % 3 = 0")
    wanted = ["qty", "price", "state", "paid_at"]
    in_postgres = comparable(profile_table(pg_runner, load, table="s", columns=wanted))
    in_duckdb = comparable(profile_table(DuckDBRunner(con), load, table="s", columns=wanted))
    assert in_postgres["rows"] == 100
    assert same(in_postgres, in_duckdb)


def test_patterns_in_postgres_agree_with_python(pg_runner: PsycopgRunner) -> None:
    texts = ["John Smith", "555-1234", "ann@x.com", "", "José O'Neil", "A+b", "ZZ9 99z", " é"]
    values = exp.values([(t,) for t in texts], alias="t", columns=["s"])
    query = exp.select(exp.alias_(pattern_expression(exp.column("s")), "p")).from_(values)
    assert [r["p"] for r in pg_runner.fetch(query).to_pylist()] == [pattern_of(t) for t in texts]


def test_patterns_of_many_distinct_values_are_sampled_in_postgres(
    pg_runner: PsycopgRunner,
) -> None:
    rows = 60_001
    assert rows > PATTERN_SAMPLE
    source = sqlglot.parse_one(
        "SELECT g AS id, CASE WHEN g % 4 = 0 THEN 'ID-' || g ELSE 'user' || g || '@x.com' END "
        "AS code FROM generate_series(1, 60001) AS g",
        read="postgres",
    )
    pg_runner.execute(exp.Create(this=exp.table_("big"), kind="TABLE", expression=source))
    recording = Recording(pg_runner)
    code = profile_table(recording, exp.table_("big"), table="big").column("code")
    assert any("HASHTEXT" in sql for sql in recording.queries)
    assert (code.count, code.distinct) == (rows, rows)
    shares = {p.pattern: p.share for p in code.patterns or ()}
    assert shares["a+9+@a.a+"] == pytest.approx(0.75, abs=0.02)
    assert shares["A+-9+"] == pytest.approx(0.25, abs=0.02)
    # sampled, so estimated: the counts are scaled to the column, not the sample
    assert sum(p.count for p in code.patterns or ()) == pytest.approx(rows, rel=0.001)

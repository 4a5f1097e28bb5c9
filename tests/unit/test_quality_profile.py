"""Column profiles on DuckDB, every statistic checked against plain Python / numpy."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sluiceway.core.errors import ConfigError
from sluiceway.quality.profile import (
    COLUMNS_PER_QUERY,
    EXACT_SKETCH_ROWS,
    PATTERN_SAMPLE,
    QUANTILES,
    SKETCH_POINTS,
    ColumnProfile,
    TableProfile,
    pattern_expression,
    profile_table,
)
from sluiceway.quality.sql import DuckDBRunner

pytestmark = pytest.mark.unit

# --- a sample table and its reference statistics (the PostgreSQL test reuses them) ---------

SAMPLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "BIGINT"),
    ("qty", "BIGINT"),
    ("price", "DOUBLE"),
    ("state", "VARCHAR"),
    ("email", "VARCHAR"),
    ("name", "VARCHAR"),
    ("day", "DATE"),
    ("seen_at", "TIMESTAMP"),
    ("paid_at", "TIMESTAMPTZ"),
    ("flag", "BOOLEAN"),
    ("nothing", "VARCHAR"),
)
_STATES = ("CA", "NY", "TX", "WA", "OR", "Ca", "N.Y.")
_FIRST = ("John", "ann", "MARY", "Li", "o'Neil", "José")


def sample_rows(n: int = 1500, seed: int = 7) -> list[tuple[Any, ...]]:
    """Deterministic messy rows: nulls, ties, mixed case, non-ASCII, an all-NULL column."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    start = dt.datetime(2024, 3, 1, 8, 0, 0)
    for i in range(n):
        missing = rng.random(5) < np.array([0.05, 0.03, 0.04, 0.02, 0.1])
        state = _STATES[min(int(rng.exponential(1.2)), len(_STATES) - 1)]
        first = _FIRST[int(rng.integers(len(_FIRST)))]
        rows.append(
            (
                i + 1,
                None if missing[0] else int(rng.integers(0, 40)),
                None if missing[1] else round(float(rng.normal(250.0, 80.0)), 2),
                None if missing[2] else state,
                f"{first.lower()}{i}@{'shop' if i % 3 else 'x'}.com",
                f"{first} {'Smith' if i % 4 else 'VAN DER Berg'}",
                dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 90))),
                start + dt.timedelta(seconds=int(rng.integers(0, 86_400 * 30))),
                dt.datetime(2024, 5, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(i) * 7),
                None if missing[3] else bool(rng.random() < 0.3),
                None,
            )
        )
    return rows


def create_table(
    con: duckdb.DuckDBPyConnection, name: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """The sample table in DuckDB, typed as :data:`SAMPLE_COLUMNS`."""
    columns = [
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t))
        for c, t in SAMPLE_COLUMNS
    ]
    table = exp.Schema(this=exp.table_(name, quoted=True), expressions=columns)
    con.execute(exp.Create(this=table, kind="TABLE").sql("duckdb"))
    if rows:
        insert = exp.insert(exp.values(list(rows)), exp.table_(name, quoted=True))
        con.execute(insert.sql("duckdb"))


def pattern_of(text: str) -> str:
    """The pattern class of ``text``, in plain Python (the reference for the SQL)."""

    def kind(char: str) -> str | None:
        if "A" <= char <= "Z":
            return "A"
        if "a" <= char <= "z":
            return "a"
        if "0" <= char <= "9":
            return "9"
        return None

    out: list[str] = []
    for cls, run in itertools.groupby(text, key=kind):
        chars = list(run)
        out += chars if cls is None else [cls + ("+" if len(chars) > 1 else "")]
    return "".join(out)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def ranked(counts: Counter[Any], top_n: int) -> list[tuple[Any, int]]:
    """Most frequent first, ties by value: the order SQL's ORDER BY n DESC, v gives."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top_n]


def reference_column(
    name: str, values: Sequence[Any], *, top_n: int = 10, bins: int = 20
) -> dict[str, Any]:
    """What the profile of one column must say, computed from the raw values."""
    rows = len(values)
    present = [v for v in values if v is not None]
    kind = {
        "BIGINT": "numeric",
        "DOUBLE": "numeric",
        "VARCHAR": "string",
        "BOOLEAN": "boolean",
    }.get(dict(SAMPLE_COLUMNS)[name], "temporal")
    expected: dict[str, Any] = {
        "name": name,
        "type": dict(SAMPLE_COLUMNS)[name],
        "kind": kind,
        "count": len(present),
        "nulls": rows - len(present),
        "null_share": (rows - len(present)) / rows,
        "distinct": len(set(present)),
        "min": as_json(min(present)) if present else None,
        "max": as_json(max(present)) if present else None,
        "top_values": [
            {"value": as_text(v), "count": c, "share": c / rows}
            for v, c in ranked(Counter(present), top_n)
        ],
    }
    if kind == "numeric":
        array = np.array(present, dtype=float)
        points = np.arange(SKETCH_POINTS) / (SKETCH_POINTS - 1)
        lo, hi = float(array.min()), float(array.max())
        index = [min(math.floor((v - lo) * bins / (hi - lo)), bins - 1) for v in array]
        tally = Counter(index)
        edges = [lo + (hi - lo) * j / bins for j in range(bins)] + [hi]
        expected |= {
            "mean": float(array.mean()),
            "stddev": float(array.std(ddof=1)),
            "quantiles": {k: float(np.quantile(array, q)) for k, q in QUANTILES.items()},
            "sketch": [float(v) for v in np.quantile(array, points)],
            "histogram": [
                {"lo": edges[j], "hi": edges[j + 1], "count": tally.get(j, 0)} for j in range(bins)
            ],
        }
    if kind == "string" and present:
        lengths = [len(v) for v in present]
        expected |= {
            "length": {
                "min": min(lengths),
                "max": max(lengths),
                "mean": sum(lengths) / len(lengths),
            },
            "patterns": [
                {"pattern": p, "count": c, "share": c / rows}
                for p, c in ranked(Counter(pattern_of(v) for v in present), top_n)
            ],
        }
    return expected


def as_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return as_text(value)
    return value


def same(actual: Any, expected: Any, *, rel: float = 1e-9) -> bool:
    """Equal, recursively through dicts and lists; floats to ``rel`` relative."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], v, rel=rel) for k, v in expected.items())
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(same(a, e, rel=rel) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, float) and not isinstance(actual, bool):
        return isinstance(actual, int | float) and math.isclose(
            actual, expected, rel_tol=rel, abs_tol=1e-12
        )
    return type(actual) is type(expected) and bool(actual == expected)


def assert_column_matches(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every key of ``expected`` equal in ``actual``; floats to 1e-9 relative."""
    for key, value in expected.items():
        assert same(actual[key], value), (actual["name"], key, actual[key], value)


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def test_every_statistic_matches_a_python_reference(con: duckdb.DuckDBPyConnection) -> None:
    rows = sample_rows()
    create_table(con, "sample", rows)
    profile = profile_table(DuckDBRunner(con), exp.table_("sample", quoted=True), table="s")
    data = profile.to_dict()
    assert data["table"] == "s"
    assert data["rows"] == len(rows)
    assert [c["name"] for c in data["columns"]] == [c for c, _ in SAMPLE_COLUMNS]
    for index, (name, _) in enumerate(SAMPLE_COLUMNS):
        expected = reference_column(name, [row[index] for row in rows])
        assert_column_matches(data["columns"][index], expected)


def test_kind_specific_fields_are_null_where_they_do_not_apply(
    con: duckdb.DuckDBPyConnection,
) -> None:
    create_table(con, "sample", sample_rows(200))
    profile = profile_table(DuckDBRunner(con), exp.table_("sample", quoted=True), table="s")
    day, state, flag, nothing = (profile.column(c) for c in ("day", "state", "flag", "nothing"))
    assert (day.kind, day.mean, day.quantiles, day.sketch, day.histogram) == (
        "temporal",
        None,
        None,
        None,
        None,
    )
    assert (day.length, day.patterns) == (None, None)
    assert (state.mean, state.sketch, state.histogram) == (None, None, None)
    assert (flag.kind, flag.min, flag.max, flag.length) == ("boolean", False, True, None)
    # a column with no value at all: counts, and nothing to describe
    assert (nothing.count, nothing.nulls, nothing.null_share, nothing.distinct) == (0, 200, 1.0, 0)
    assert (nothing.min, nothing.max, nothing.length, nothing.patterns) == (None, None, None, ())
    assert nothing.top_values == ()


def test_timestamps_with_time_zone_are_iso_text_in_utc(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'America/New_York'")
    con.execute("CREATE TABLE t (happened TIMESTAMPTZ)")
    con.execute("INSERT INTO t VALUES ('2024-05-01 12:00:00+00'), ('2024-05-02 00:30:00+02')")
    column = profile_table(DuckDBRunner(con), exp.table_("t"), table="t").column("happened")
    assert (column.type, column.min, column.max) == (
        "TIMESTAMPTZ",
        "2024-05-01T12:00:00+00:00",
        "2024-05-01T22:30:00+00:00",
    )
    assert [t.value for t in column.top_values] == [column.min, column.max]


def test_empty_table_profiles_without_dividing_by_zero(con: duckdb.DuckDBPyConnection) -> None:
    create_table(con, "sample", [])
    profile = profile_table(DuckDBRunner(con), exp.table_("sample", quoted=True), table="s")
    assert profile.rows == 0
    price = profile.column("price")
    assert (price.kind, price.count, price.nulls, price.null_share, price.distinct) == (
        "numeric",
        0,
        0,
        0.0,
        0,
    )
    assert (price.mean, price.stddev, price.quantiles, price.sketch, price.histogram) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert json.dumps(profile.to_dict(), allow_nan=False)


def test_a_query_relation_profiles_only_its_rows(con: duckdb.DuckDBPyConnection) -> None:
    rows = sample_rows(300)
    create_table(con, "sample", rows)
    load = exp.select("*").from_(exp.table_("sample", quoted=True)).where("id > 100")
    runner = DuckDBRunner(con)
    by_query = profile_table(runner, load, table="s", load_id="L1")
    by_subquery = profile_table(runner, load.subquery(), table="s", load_id="L1")
    assert (by_query.load_id, by_query.rows) == ("L1", 200)
    qty = [row[1] for row in rows if row[0] > 100]
    assert_column_matches(by_query.column("qty").to_dict(), reference_column("qty", qty))
    assert strip_time(by_query.to_dict()) == strip_time(by_subquery.to_dict())


def strip_time(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in profile.items() if k != "profiled_at"}


def test_columns_top_n_and_bins_are_honoured(con: duckdb.DuckDBPyConnection) -> None:
    rows = sample_rows(400)
    create_table(con, "sample", rows)
    profile = profile_table(
        DuckDBRunner(con),
        exp.table_("sample", quoted=True),
        table="s",
        columns=["state", "qty"],
        top_n=3,
        bins=5,
    )
    assert [c.name for c in profile.columns] == ["state", "qty"]
    qty = [row[1] for row in rows]
    assert_column_matches(
        profile.column("qty").to_dict(), reference_column("qty", qty, top_n=3, bins=5)
    )
    state = [row[3] for row in rows]
    assert_column_matches(
        profile.column("state").to_dict(), reference_column("state", state, top_n=3, bins=5)
    )


def test_an_unknown_column_is_a_config_error(con: duckdb.DuckDBPyConnection) -> None:
    create_table(con, "sample", sample_rows(5))
    with pytest.raises(ConfigError, match="no column 'nope'") as info:
        profile_table(DuckDBRunner(con), exp.table_("sample"), table="s", columns=["id", "nope"])
    assert "qty" in (info.value.hint or "")


def test_constant_and_non_finite_numbers(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE t (c DOUBLE, w DOUBLE)")
    con.execute("INSERT INTO t VALUES (4.0, 1.0), (4.0, 'nan'), (4.0, 'inf'), (NULL, 2.0)")
    profile = profile_table(DuckDBRunner(con), exp.table_("t"), table="t")
    constant = profile.column("c")
    assert constant.histogram is not None
    assert [(b.lo, b.hi, b.count) for b in constant.histogram] == [(4.0, 4.0, 3)]
    assert constant.sketch == tuple([4.0] * SKETCH_POINTS)
    assert constant.stddev == 0.0
    # NaN and infinity never reach the JSON: the statistics they poison become null
    text = json.dumps(profile.to_dict(), allow_nan=False)
    assert "NaN" not in text
    assert "Infinity" not in text
    assert profile.column("w").mean is None


def test_round_trip_through_json(con: duckdb.DuckDBPyConnection) -> None:
    create_table(con, "sample", sample_rows(100))
    profile = profile_table(DuckDBRunner(con), exp.table_("sample"), table="s", load_id="L")
    data = json.loads(json.dumps(profile.to_dict(), allow_nan=False))
    again = TableProfile.from_dict(data)
    assert again == profile
    assert again.to_dict() == data
    assert ColumnProfile.from_dict(data["columns"][2]) == profile.columns[2]


class CountingRunner:
    """A DuckDB runner that records every query it is asked to run."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.inner = DuckDBRunner(con)
        self.queries: list[exp.Expr] = []

    def fetch(self, query: exp.Expr) -> pa.Table:
        self.queries.append(query)
        return self.inner.fetch(query)

    def execute(self, statement: exp.Expr) -> int:
        self.queries.append(statement)
        return self.inner.execute(statement)


@pytest.mark.parametrize("width", [1, 11, COLUMNS_PER_QUERY, COLUMNS_PER_QUERY + 6])
def test_queries_are_three_per_batch_of_columns(con: duckdb.DuckDBPyConnection, width: int) -> None:
    columns = [exp.alias_(exp.Literal.number(k), f"c{k}", quoted=True) for k in range(width)]
    source = exp.select(*columns).from_(
        exp.Anonymous(this="range", expressions=[exp.Literal.number(50)])
    )
    con.execute(exp.Create(this=exp.table_("wide"), kind="TABLE", expression=source).sql("duckdb"))
    runner = CountingRunner(con)
    profile = profile_table(runner, exp.table_("wide"), table="wide")
    assert len(profile.columns) == width
    assert len(runner.queries) == 1 + 2 * math.ceil(width / COLUMNS_PER_QUERY)
    assert all(c.distinct == 1 and c.count == 50 for c in profile.columns)


def test_large_tables_use_a_sketch_and_sampled_patterns(con: duckdb.DuckDBPyConnection) -> None:
    n = max(EXACT_SKETCH_ROWS, PATTERN_SAMPLE) * 2 + 1
    rng = np.random.default_rng(3)
    values = rng.lognormal(3.0, 0.7, n)
    kinds = rng.random(n) < 0.7
    codes = [f"user{i}@mail.com" if email else f"ZX-{i}" for i, email in enumerate(kinds.tolist())]
    arrow = pa.table({"v": pa.array(values), "code": pa.array(codes)})
    con.register("arrow_source", arrow)
    con.execute("CREATE TABLE big AS SELECT * FROM arrow_source")
    profile = profile_table(DuckDBRunner(con), exp.table_("big"), table="big")
    v = profile.column("v")
    assert v.quantiles == pytest.approx(
        {k: float(np.quantile(values, q)) for k, q in QUANTILES.items()}, rel=1e-9
    )
    assert v.sketch is not None
    assert len(v.sketch) == SKETCH_POINTS
    assert (v.sketch[0], v.sketch[-1]) == (float(values.min()), float(values.max()))
    assert all(a <= b for a, b in itertools.pairwise(v.sketch))
    # an approximate sketch, but each point within 1% of rank of where it should be
    ordered = np.sort(values)
    ranks = np.searchsorted(ordered, np.array(v.sketch), side="right") / n
    assert np.max(np.abs(ranks - np.arange(SKETCH_POINTS) / 100)[1:-1]) < 0.01
    code = profile.column("code")
    assert code.distinct == n
    shares = {p.pattern: p.share for p in code.patterns or ()}
    assert shares["a+9+@a+.a+"] == pytest.approx(float(kinds.mean()), abs=0.02)
    assert shares["A+-9+"] == pytest.approx(1 - float(kinds.mean()), abs=0.02)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.text(alphabet="ABZabz0129 -.@+_éÉ'", max_size=24),
        min_size=1,
        max_size=20,
    )
)
def test_pattern_sql_agrees_with_python(texts: list[str]) -> None:
    con = duckdb.connect()
    values = exp.values([(t,) for t in texts], alias="t", columns=["s"])
    query = exp.select(exp.alias_(pattern_expression(exp.column("s")), "p")).from_(values)
    got = [row["p"] for row in DuckDBRunner(con).fetch(query).to_pylist()]
    assert got == [pattern_of(t) for t in texts]


def test_pattern_examples() -> None:
    assert [pattern_of(t) for t in ("John Smith", "555-1234", "ann@x.com", "CA")] == [
        "Aa+ Aa+",
        "9+-9+",
        "a+@a.a+",
        "A+",
    ]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_global_replace_flag_is_rendered_once(dialect: str) -> None:
    sql = pattern_expression(exp.column("s")).sql(dialect)
    assert sql.count("REGEXP_REPLACE(") == 6
    assert sql.count("'g'") == 6
    assert "'gg'" not in sql


def test_odd_column_names_are_quoted(con: duckdb.DuckDBPyConnection) -> None:
    names = ['we"ird name', "select", "UPPER", "n"]
    columns = [
        exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=exp.DataType.build("VARCHAR"))
        for n in names
    ]
    table = exp.Schema(this=exp.table_("odd", quoted=True), expressions=columns)
    con.execute(exp.Create(this=table, kind="TABLE").sql("duckdb"))
    rows = [("a", "b", "C", "1"), ("a", None, "D", "22")]
    con.execute(exp.insert(exp.values(rows), exp.table_("odd", quoted=True)).sql("duckdb"))
    profile = profile_table(DuckDBRunner(con), exp.table_("odd", quoted=True), table="odd")
    assert [c.name for c in profile.columns] == names
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        expected = reference_column("state", values) | {"name": name}
        assert_column_matches(profile.column(name).to_dict(), expected)


def test_other_kinds_get_counts_only(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE t (xs INTEGER[], raw BLOB, span INTERVAL)")
    con.execute(
        "INSERT INTO t VALUES ([1, 2], 'ab', INTERVAL 1 DAY), (NULL, NULL, NULL), ([], 'c', NULL)"
    )
    profile = profile_table(DuckDBRunner(con), exp.table_("t"), table="t")
    assert [(c.name, c.type, c.kind) for c in profile.columns] == [
        ("xs", "INTEGER[]", "other"),
        ("raw", "BLOB", "other"),
        ("span", "INTERVAL", "other"),
    ]
    assert [(c.count, c.nulls, c.distinct, c.top_values) for c in profile.columns] == [
        (2, 1, None, ()),
        (2, 1, None, ()),
        (1, 2, None, ()),
    ]

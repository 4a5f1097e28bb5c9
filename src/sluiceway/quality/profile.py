"""Column profiles of a table (or of one load's rows), computed by SQL pushed down to the engine.

A profile is what a person looks at before writing rules and what drift checks compare loads
with: per column the counts, nulls, distinct values, extremes, mean and spread, quantiles and a
101-point quantile sketch, the most frequent values, a histogram, string lengths and the
shapes ("patterns") strings take. :func:`profile_table` builds it with three queries per 32
columns, each scanning the relation at most once per column (see its docstring);
:meth:`TableProfile.to_dict` gives the JSON-safe shape the metadata store and reports keep.

Example, ``t`` holding rows (1, 'CA') and (2, 'NY')::

    profile = profile_table(DuckDBRunner(con), exp.table_("t", quoted=True), table="t")
    profile.rows, profile.column("st").patterns[0].pattern  # (2, 'A+')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal, TypeVar

import pyarrow as pa
from sqlglot import exp

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import ConfigError
from sluiceway.core.sql_types import sql_type
from sluiceway.quality.sql import SqlRunner

Kind = Literal["numeric", "string", "temporal", "boolean", "other"]
JsonScalar = int | float | str | bool | None
_T = TypeVar("_T")

# The quantiles a profile names; the sketch holds every percentile from 0 to 100.
QUANTILES = {f"p{round(q * 100):02d}": q for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)}
SKETCH_POINTS = 101
# Up to this many rows DuckDB computes the sketch exactly; above, with its t-digest.
EXACT_SKETCH_ROWS = 100_000
# Above this many distinct values a string column's patterns are estimated from a
# deterministic hash sample of its distinct values: regular expressions over millions of
# distinct e-mail addresses would cost more than the rest of the profile together.
PATTERN_SAMPLE = 50_000
# Columns per pair of queries: DuckDB plans a query of many CTEs in time that grows faster
# than linearly with their number (PostgreSQL caps a SELECT at 1664 columns, 10 per column here).
COLUMNS_PER_QUERY = 32


# --- the profile as values ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueCount:
    """One frequent value (as text), its rows and their share of all rows."""

    value: str
    count: int
    share: float


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """Rows with values in ``[lo, hi)`` (the last bin includes ``hi``)."""

    lo: float
    hi: float
    count: int


@dataclass(frozen=True, slots=True)
class LengthStats:
    """String lengths in characters."""

    min: int
    max: int
    mean: float


@dataclass(frozen=True, slots=True)
class PatternCount:
    """One string shape (``"Aa+ Aa+"``), its rows and their share of all rows."""

    pattern: str
    count: int
    share: float


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and mappings as the dicts and lists of the JSON shape."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _many(items: Any, make: Callable[..., _T]) -> tuple[_T, ...] | None:
    return None if items is None else tuple(make(**item) for item in items)


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """One column's statistics (fields in the order of the JSON shape).

    What does not apply to the column's kind is ``None``: mean, stddev, quantiles, sketch and
    histogram are for numbers, length and patterns for strings. ``stddev`` is the sample one;
    a constant column's histogram is one bin [v, v]; ``distinct`` is None for "other" kinds
    (lists, structs, blobs, intervals), whose values are not grouped.
    """

    name: str
    type: str
    kind: Kind
    count: int
    nulls: int
    null_share: float
    distinct: int | None
    min: JsonScalar = None
    max: JsonScalar = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: Mapping[str, float] | None = None
    sketch: tuple[float, ...] | None = None
    top_values: tuple[ValueCount, ...] = ()
    histogram: tuple[HistogramBin, ...] | None = None
    length: LengthStats | None = None
    patterns: tuple[PatternCount, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The column's JSON-safe dict (see :meth:`TableProfile.to_dict`)."""
        plain: dict[str, Any] = _plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """The inverse of :meth:`to_dict`."""
        given: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        quantiles, sketch, length = given["quantiles"], given["sketch"], given["length"]
        given |= {
            "quantiles": dict(quantiles) if quantiles is not None else None,
            "sketch": tuple(sketch) if sketch is not None else None,
            "top_values": _many(given["top_values"], ValueCount) or (),
            "histogram": _many(given["histogram"], HistogramBin),
            "length": LengthStats(**length) if length is not None else None,
            "patterns": _many(given["patterns"], PatternCount),
        }
        return cls(**given)


@dataclass(frozen=True, slots=True)
class TableProfile:
    """A table's (or one load's) profile: its row count and a :class:`ColumnProfile` each."""

    table: str
    load_id: str | None
    profiled_at: str
    rows: int
    columns: tuple[ColumnProfile, ...] = ()

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name`` (``KeyError`` when it was not profiled)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict the metadata store keeps and the run report embeds."""
        plain: dict[str, Any] = _plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableProfile:
        """The inverse of :meth:`to_dict`."""
        return cls(
            table=data["table"],
            load_id=data.get("load_id"),
            profiled_at=data["profiled_at"],
            rows=data["rows"],
            columns=tuple(ColumnProfile.from_dict(c) for c in data.get("columns") or ()),
        )


# --- classifying columns ------------------------------------------------------------------


def column_kind(arrow: pa.DataType) -> Kind:
    """Which statistics apply to a column of Arrow type ``arrow``."""
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "numeric"
    if (
        pa.types.is_string(arrow)
        or pa.types.is_large_string(arrow)
        or pa.types.is_string_view(arrow)
        or (pa.types.is_dictionary(arrow) and pa.types.is_string(arrow.value_type))
    ):
        return "string"
    if pa.types.is_date(arrow) or pa.types.is_timestamp(arrow) or pa.types.is_time(arrow):
        return "temporal"
    return "other"


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    name: str
    type: str
    kind: Kind

    def alias(self, stat: str) -> str:
        # Positional names: user column names may be long, odd or clash after truncation.
        return f"c{self.index}_{stat}"


# --- SQL builders ----------------------------------------------------------------------------

_UPPER = "[ABCDEFGHIJKLMNOPQRSTUVWXYZ]"
_LOWER = "[abcdefghijklmnopqrstuvwxyz]"
_DIGIT = "[0123456789]"
# Explicit ASCII classes: PostgreSQL's [[:upper:]] follows the locale, RE2's does not.
# A run is replaced before single characters; the single-character pass then maps the run's
# own letter to itself, so "John" -> "Jo+" is impossible and "Aa+" comes out.
_PATTERN_STEPS = [
    step
    for chars, symbol in ((_UPPER, "A"), (_LOWER, "a"), (_DIGIT, "9"))
    for step in ((chars + chars + "+", symbol + "+"), (chars, symbol))
]


def pattern_expression(value: exp.Expr) -> exp.Expr:
    """The pattern class of a string as SQL: upper-case runs -> A, lower -> a, digits -> 9,
    runs longer than one character marked with "+", other characters kept."""
    for regex, replacement in _PATTERN_STEPS:
        # No `modifiers`: sqlglot's RegexpReplace is global unless single_replace is set, and
        # renders the 'g' flag itself (passing 'g' gives 'gg' in PostgreSQL).
        value = exp.RegexpReplace(
            this=value,
            expression=exp.Literal.string(regex),
            replacement=exp.Literal.string(replacement),
        )
    return value


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _named(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, quoted=True, copy=False)


def _rel(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _cast(value: exp.Expr, to: str) -> exp.Expr:
    return exp.cast(value, exp.DataType.build(to), copy=False)


def _count(value: exp.Expr | None = None) -> exp.Count:
    return exp.Count(this=value if value is not None else exp.Star())


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(repr(value) if isinstance(value, float) else value)


def _fractions(points: Sequence[float]) -> exp.Array:
    return exp.Array(expressions=[_number(p) for p in points])


def _ordered(value: exp.Expr, *, desc: bool = False) -> exp.Ordered:
    return exp.Ordered(this=value, desc=desc, nulls_first=False)


def _source(relation: exp.Expr | str) -> exp.Expr:
    """``relation`` as something a FROM clause takes (queries get an alias)."""
    if isinstance(relation, str):
        from sluiceway.quality.rules import table_expr

        return table_expr(relation)
    if isinstance(relation, exp.Table):
        return relation.copy()
    if isinstance(relation, exp.Subquery):
        sub = relation.copy()
        if not sub.alias:
            sub.set("alias", exp.TableAlias(this=_rel("_profiled")))
        return sub
    if isinstance(relation, exp.Query):
        return relation.subquery(_rel("_profiled"), copy=True)
    raise TypeError(f"cannot profile a {type(relation).__name__}; pass a table or a query")


def _scalar(*items: exp.Expr, cte: str) -> exp.Subquery:
    return exp.Subquery(this=exp.select(*items, copy=False).from_(_rel(cte), copy=False))


def _sample_hash(value: exp.Expr, dialect: str) -> exp.Expr | None:
    """A deterministic integer hash of a string in ``dialect``; None where none is known."""
    name = {"duckdb": "HASH", "postgres": "HASHTEXT"}.get(dialect)
    return exp.Anonymous(this=name, expressions=[value]) if name else None


def _value_groups(source: exp.Expr, column: _Column) -> exp.Select:
    """Each non-null value of ``column`` once (``v``), with the rows that hold it (``n``)."""
    key = _col(column.name)
    value = _cast(key, "VARCHAR") if column.kind == "string" else key
    return (
        exp.select(_named(value, "v"), _named(_count(), "n"), copy=False)
        .from_(source.copy(), copy=False)
        .where(exp.not_(exp.Is(this=key.copy(), expression=exp.Null())), copy=False)
        .group_by(value.copy(), copy=False)
    )


def _ranked(cte: str, count: str, limit: int) -> exp.Select:
    """The ``limit`` most frequent rows of ``cte`` (``pos``, ``v``, ``cnt``); ties by value.

    The rank is numbered after the cut, over at most ``limit`` rows: a window over all the
    groups would sort millions of distinct values to keep ten.
    """
    order = [_ordered(_col(count), desc=True), _ordered(_col("v"))]
    top = (
        exp.select(_col("v"), _named(_col(count), "cnt"), copy=False)
        .from_(_rel(cte), copy=False)
        .order_by(*order, copy=False)
        .limit(limit, copy=False)
    )
    again = [_ordered(_col("cnt"), desc=True), _ordered(_col("v"))]
    rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=again))
    return exp.select(_named(rank, "pos"), _col("v"), _col("cnt"), copy=False).from_(
        top.subquery(_rel("_top"), copy=False), copy=False
    )


def _histogram_groups(groups: str, bins: int) -> exp.Select:
    """Rows per equal-width bin over [min, max] of the column's values (``pos``: the bin)."""
    lo, hi = _col("lo", "b"), _col("hi", "b")
    offset = exp.paren(exp.Sub(this=_cast(_col("v"), "DOUBLE"), expression=lo))
    width = exp.Nullif(this=exp.Sub(this=hi, expression=lo.copy()), expression=_number(0))
    scaled = exp.Div(this=exp.Mul(this=offset, expression=_number(bins)), expression=width)
    # max lands in the last bin; a constant column (width 0 -> NULL) in the first. The bin
    # stays a DOUBLE: casting NaN to an integer is an error (such columns get no histogram).
    bucket = exp.Coalesce(
        this=exp.Least(
            this=exp.Floor(this=scaled), expressions=[_number(bins - 1)], ignore_nulls=True
        ),
        expressions=[_number(0)],
    )
    low = exp.Min(this=_cast(_col("v"), "DOUBLE"))
    high = exp.Max(this=_cast(_col("v"), "DOUBLE"))
    bounds = exp.select(_named(low, "lo"), _named(high, "hi"), copy=False).from_(
        _rel(groups), copy=False
    )
    return (
        exp.select(_named(bucket, "pos"), _named(exp.Sum(this=_col("n")), "cnt"), copy=False)
        .from_(_rel(groups), copy=False)
        .join(bounds.subquery(_rel("b"), copy=False), join_type="CROSS", copy=False)
        .group_by(bucket.copy(), copy=False)
    )


def _pattern_groups(groups: str, stride: int | None, dialect: str) -> exp.Select:
    """Rows per pattern (``v``, ``cnt``), computed once per distinct value.

    With a ``stride`` (tables of more than :data:`PATTERN_SAMPLE` rows), a column with more than
    :data:`PATTERN_SAMPLE` distinct values is sampled: only values whose hash is a multiple of
    ``stride`` are classified. The two cases are two UNION ALL branches with plain filters, which
    DuckDB plans as cheap scans (one OR-ed condition made it a nested-loop join).
    """
    pattern = pattern_expression(_col("v"))
    every = exp.select(_named(pattern, "v"), _col("n"), copy=False).from_(_rel(groups), copy=False)
    hashed = _sample_hash(_col("v"), dialect)
    if stride is not None and stride > 1 and hashed is not None:
        few = exp.LTE(this=_scalar(_count(), cte=groups), expression=_number(PATTERN_SAMPLE))
        sampled = exp.and_(
            exp.EQ(this=exp.Mod(this=hashed, expression=_number(stride)), expression=_number(0)),
            exp.not_(few.copy()),
        )
        # Hashes may be negative (PostgreSQL): `% k = 0` keeps one value in k either way.
        rows: exp.Query = exp.union(
            every.copy().where(few, copy=False),
            every.where(sampled, copy=False),
            distinct=False,
            copy=False,
        )
    else:
        rows = every
    return (
        exp.select(_col("v"), _named(exp.Sum(this=_col("n")), "cnt"), copy=False)
        .from_(rows.subquery(_rel("_patterns"), copy=False), copy=False)
        .group_by(_col("v"), copy=False)
    )


def _approximate(dialect: str, rows: int) -> bool:
    return dialect == "duckdb" and rows > EXACT_SKETCH_ROWS


def _quantile_items(column: _Column, number: exp.Expr, *, approximate: bool) -> list[exp.Expr]:
    """The 101-point sketch, and the exact named quantiles when the sketch is approximate.

    DuckDB's exact quantile costs a selection pass per point (101 points take ~10x the time of
    the 7 named ones), so over more than :data:`EXACT_SKETCH_ROWS` rows the sketch comes from
    its t-digest (``approx_quantile``; rank error well under 1%) and is pinned to the exact
    named quantiles in Python. Otherwise (and always in PostgreSQL, which sorts once for any
    number of points and has no t-digest) the sketch is exact and the named quantiles are read
    off it.
    """
    sketch = _fractions([k / (SKETCH_POINTS - 1) for k in range(SKETCH_POINTS)])
    if not approximate:
        # PERCENTILE_CONT(ARRAY[...]) WITHIN GROUP (ORDER BY x) in PostgreSQL.
        return [_named(exp.PercentileCont(this=number, expression=sketch), column.alias("sk"))]
    named = exp.PercentileCont(this=number, expression=_fractions(list(QUANTILES.values())))
    approx = exp.ApproxQuantile(this=number.copy(), quantile=sketch)
    return [_named(named, column.alias("q")), _named(approx, column.alias("sk"))]


def _aggregate_items(column: _Column, *, approximate: bool) -> list[exp.Expr]:
    """The per-row aggregates of ``column``: all of them go into one scan of the relation."""
    name = _col(column.name)
    items = [_named(_count(name.copy()), column.alias("n"))]
    if column.kind == "other":
        return items
    value = _cast(name.copy(), "VARCHAR") if column.kind == "string" else name.copy()
    if column.kind == "boolean":  # PostgreSQL has no min/max over booleans
        low: exp.Expr = exp.LogicalAnd(this=value)
        high: exp.Expr = exp.LogicalOr(this=value.copy())
    else:
        low, high = exp.Min(this=value), exp.Max(this=value.copy())
    items += [_named(low, column.alias("min")), _named(high, column.alias("max"))]
    if column.kind == "numeric":
        number = _cast(name.copy(), "DOUBLE")
        items += [
            _named(exp.Avg(this=number), column.alias("mean")),
            _named(exp.StddevSamp(this=number.copy()), column.alias("sd")),
            *_quantile_items(column, number.copy(), approximate=approximate),
        ]
    if column.kind == "string":
        length = exp.Length(this=_cast(name.copy(), "VARCHAR"))
        items += [
            _named(exp.Min(this=length), column.alias("lmin")),
            _named(exp.Max(this=length.copy()), column.alias("lmax")),
            _named(exp.Avg(this=_cast(length.copy(), "DOUBLE")), column.alias("lmean")),
        ]
    return items


def _aggregate_query(
    source: exp.Expr, columns: Sequence[_Column], *, approximate: bool
) -> exp.Select:
    """One scan of the relation: the row count and every column's per-row aggregates."""
    items: list[exp.Expr] = [_named(_count(), "rows")]
    for column in columns:
        items += _aggregate_items(column, approximate=approximate)
    return exp.select(*items, copy=False).from_(source.copy(), copy=False)


def _row(
    column: _Column, part: str, cte: str, *, pos: exp.Expr, value: exp.Expr, count: exp.Expr
) -> exp.Select:
    """One branch of the values query: (col, part, pos, v, cnt), uniformly typed."""
    return exp.select(
        _named(_number(column.index), "col"),
        _named(exp.Literal.string(part), "part"),
        _named(_cast(pos, "DOUBLE"), "pos"),
        _named(_cast(value, "VARCHAR"), "v"),
        _named(_cast(count, "BIGINT"), "cnt"),
        copy=False,
    ).from_(_rel(cte), copy=False)


def _value_parts(
    source: exp.Expr, column: _Column, *, bins: int, top_n: int, dialect: str, rows: int
) -> tuple[list[exp.CTE], list[exp.Select]]:
    """The CTEs and result rows read off ``column``'s value groups: the distinct count (part
    ``d``), top values (``t``), histogram bins (``h``), top patterns (``p``) and the rows the
    patterns were counted on (``s``)."""
    ctes: list[exp.CTE] = []

    def cte(suffix: str, query: exp.Select, *, shared: bool = False) -> str:
        alias = column.alias(suffix)
        # Groups are read several times: computed once (PostgreSQL does so by itself).
        ctes.append(
            exp.CTE(this=query, alias=exp.TableAlias(this=_rel(alias)), materialized=shared or None)
        )
        return alias

    null = exp.Null()
    groups = cte("g", _value_groups(source, column), shared=True)
    top = cte("t", _ranked(groups, "n", top_n))
    branches = [
        _row(column, "d", groups, pos=null, value=null.copy(), count=_count()),
        _row(column, "t", top, pos=_col("pos"), value=_col("v"), count=_col("cnt")),
    ]
    if column.kind == "numeric":
        histogram = cte("h", _histogram_groups(groups, bins))
        branches.append(
            _row(column, "h", histogram, pos=_col("pos"), value=null.copy(), count=_col("cnt"))
        )
    if column.kind == "string":
        stride = -(-rows // PATTERN_SAMPLE) if rows > PATTERN_SAMPLE else None
        patterns = cte("p", _pattern_groups(groups, stride, dialect), shared=True)
        top_patterns = cte("pt", _ranked(patterns, "cnt", top_n))
        branches += [
            _row(column, "p", top_patterns, pos=_col("pos"), value=_col("v"), count=_col("cnt")),
            _row(
                column,
                "s",
                patterns,
                pos=null.copy(),
                value=null.copy(),
                count=exp.Sum(this=_col("cnt")),
            ),
        ]
    return ctes, branches


def _values_query(
    source: exp.Expr, columns: Sequence[_Column], *, bins: int, top_n: int, dialect: str, rows: int
) -> exp.Query | None:
    """One query for everything read off value groups, as long rows (col, part, pos, v, cnt).

    Long rows rather than one wide row of scalar subqueries: DuckDB plans each scalar subquery
    as a join, and its planning time grows much faster than linearly with their number.
    """
    ctes: list[exp.CTE] = []
    branches: list[exp.Query] = []
    for column in columns:
        if column.kind != "other":
            more_ctes, more_branches = _value_parts(
                source, column, bins=bins, top_n=top_n, dialect=dialect, rows=rows
            )
            ctes += more_ctes
            branches += more_branches
    if not branches:
        return None
    # A balanced tree of UNION ALLs: a left-deep chain of hundreds would nest too deeply for
    # sqlglot's recursive generator.
    while len(branches) > 1:
        paired = [
            exp.union(branches[i], branches[i + 1], distinct=False, copy=False)
            for i in range(0, len(branches) - 1, 2)
        ]
        branches = paired + (branches[-1:] if len(branches) % 2 else [])
    query = exp.select("*", copy=False).from_(
        branches[0].subquery(_rel("_values"), copy=False), copy=False
    )
    query.set("with_", exp.With(expressions=ctes))
    return query


# --- running it ------------------------------------------------------------------------------


def profile_table(
    runner: SqlRunner,
    relation: exp.Table | exp.Subquery | exp.Query | str,
    *,
    table: str,
    load_id: str | None = None,
    columns: Sequence[str] | None = None,
    top_n: int = 10,
    bins: int = 20,
) -> TableProfile:
    """Profile ``relation`` (a table or its dotted name, or a query such as one load's rows).

    Three queries for up to :data:`COLUMNS_PER_QUERY` columns, two more per further batch:

    1. the row count and the column types (Arrow, read off at most one row);
    2. one scan of the relation for every per-row aggregate: counts, extremes, mean, sample
       stddev, quantiles and the 101-point sketch, string lengths;
    3. one GROUP BY per column (materialised once), off which the distinct count, the top
       values, the histogram and the patterns are all read.

    A runner that cannot type a NULL (Arrow types from Python rows) costs one more cheap query
    for the columns NULL in the first row. ``columns`` limits (and orders) the profiled
    columns; ``top_n`` caps top values and patterns; ``bins`` is the number of equal-width
    histogram bins over [min, max].
    """
    if top_n < 1 or bins < 1:
        raise ConfigError(
            f"cannot profile {table} with top_n={top_n} and bins={bins}",
            hint="Both must be at least 1.",
        )
    source = _source(relation)
    profiled, rows = _columns(runner, source, table, columns)
    dialect = runner.dialect
    results: list[ColumnProfile] = []
    for start in range(0, len(profiled), COLUMNS_PER_QUERY):
        chunk = profiled[start : start + COLUMNS_PER_QUERY]
        aggregates = _aggregate_query(source, chunk, approximate=_approximate(dialect, rows))
        fetched = runner.fetch(aggregates).to_pylist()
        row = fetched[0] if fetched else {}
        rows = int(row.get("rows") or 0)
        values = _values_query(source, chunk, bins=bins, top_n=top_n, dialect=dialect, rows=rows)
        parts: dict[tuple[int, str], list[tuple[float, str | None, int]]] = {}
        for item in runner.fetch(values).to_pylist() if values is not None else ():
            key = (int(item["col"]), str(item["part"]))
            pos = float(item["pos"]) if item["pos"] is not None else 0.0
            parts.setdefault(key, []).append((pos, item["v"], int(item["cnt"] or 0)))
        for column in chunk:
            found = {part: sorted(parts.get((column.index, part), [])) for part in "dthps"}
            results.append(_column_profile(column, row, found, rows, bins))
    return TableProfile(
        table=table,
        load_id=load_id,
        profiled_at=utcnow().isoformat(timespec="seconds"),
        rows=rows,
        columns=tuple(results),
    )


def _columns(
    runner: SqlRunner, source: exp.Expr, table: str, wanted: Sequence[str] | None
) -> tuple[list[_Column], int]:
    """The profiled columns (SQL type and kind, from the relation's Arrow schema) and the
    relation's row count, in one query: the count LEFT JOIN at most one row of the relation,
    which types every column even when the relation is empty."""
    count = exp.select(_named(_count(), "__sluiceway_rows")).from_(source.copy())
    first = exp.select("*").from_(source.copy()).limit(1)
    probe = (
        exp.select("*")
        .from_(count.subquery(_rel("_count")))
        .join(first.subquery(_rel("_first")), join_type="LEFT", on=exp.true())
    )
    fetched = runner.fetch(probe)
    rows = int(fetched.column(0)[0].as_py() or 0) if fetched.num_rows else 0
    types = {f.name: f.type for f in list(fetched.schema)[1:]}
    names = list(types) if wanted is None else list(wanted)
    missing = [n for n in names if n not in types]
    if missing:
        raise ConfigError(
            f"cannot profile {table}: no column {', '.join(map(repr, missing))}",
            hint=f"Its columns are {', '.join(types) or '(none)'}.",
        )
    untyped = [n for n in names if pa.types.is_null(types[n])]
    if untyped and rows:
        types.update(_probe_types(runner, source, untyped))
    columns = [
        _Column(index, name, sql_type(types[name]), column_kind(types[name]))
        for index, name in enumerate(names)
    ]
    return columns, rows


def _probe_types(
    runner: SqlRunner, source: exp.Expr, names: Sequence[str]
) -> dict[str, pa.DataType]:
    """Types from one non-null value of each column, for runners whose empty results are
    untyped (a driver that builds Arrow from Python rows). All-NULL columns stay untyped."""
    probes = []
    for index, name in enumerate(names):
        first = (
            exp.select(_col(name))
            .from_(source.copy())
            .where(exp.not_(exp.Is(this=_col(name), expression=exp.Null())))
            .limit(1)
        )
        probes.append(_named(exp.Subquery(this=first), f"c{index}"))
    schema = runner.fetch(exp.select(*probes)).schema
    return {name: schema.field(f"c{index}").type for index, name in enumerate(names)}


Parts = Mapping[str, Sequence[tuple[float, str | None, int]]]


def _column_profile(
    column: _Column, row: Mapping[str, Any], parts: Parts, rows: int, bins: int
) -> ColumnProfile:
    """One column's :class:`ColumnProfile` from the aggregate row and its value-group parts."""
    count = int(row.get(column.alias("n")) or 0)
    distinct = parts["d"][0][2] if parts["d"] else 0
    profile = ColumnProfile(
        name=column.name,
        type=column.type,
        kind=column.kind,
        count=count,
        nulls=rows - count,
        null_share=(rows - count) / rows if rows else 0.0,
        distinct=None if column.kind == "other" else distinct,
        min=_json_value(row.get(column.alias("min"))),
        max=_json_value(row.get(column.alias("max"))),
        top_values=tuple(
            ValueCount(_value_text(str(v), column), n, n / rows) for _, v, n in parts["t"]
        ),
    )
    if column.kind == "numeric":
        profile = _with_numbers(profile, row, column, parts["h"], bins)
    if column.kind == "string":
        profile = _with_strings(profile, row, column, parts)
    return profile


def _with_numbers(
    profile: ColumnProfile,
    row: Mapping[str, Any],
    column: _Column,
    histogram: Sequence[tuple[float, str | None, int]],
    bins: int,
) -> ColumnProfile:
    """Mean, stddev, quantiles, sketch and histogram of a numeric column."""
    sketch = _all_finite(row.get(column.alias("sk")))
    exact = row.get(column.alias("q"))
    if exact is not None:
        named = _all_finite(exact)
    elif sketch is not None:
        named = [sketch[round(p * (SKETCH_POINTS - 1))] for p in QUANTILES.values()]
    else:
        named = None
    quantiles = dict(zip(QUANTILES, named, strict=True)) if named and sketch else None
    pinned = _pinned_sketch(sketch, profile, quantiles) if sketch and quantiles else None
    return replace(
        profile,
        mean=_finite(row.get(column.alias("mean"))),
        stddev=_finite(row.get(column.alias("sd"))),
        quantiles=quantiles if pinned else None,
        sketch=tuple(pinned) if pinned else None,
        histogram=_histogram(profile, histogram, bins),
    )


def _pinned_sketch(
    sketch: list[float], profile: ColumnProfile, quantiles: Mapping[str, float]
) -> list[float] | None:
    """The sketch with its ends at the exact min and max and the exact named quantiles in
    place; the points between clamped to their exact neighbours, so it never decreases."""
    low, high = profile.min, profile.max
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    last = SKETCH_POINTS - 1
    anchors = {0: float(low), last: float(high)}
    anchors.update({round(QUANTILES[k] * last): v for k, v in quantiles.items()})
    pinned = list(sketch)
    for left, right in itertools.pairwise(sorted(anchors)):
        pinned[left], pinned[right] = anchors[left], anchors[right]
        for k in range(left + 1, right):
            pinned[k] = min(max(pinned[k], pinned[k - 1]), anchors[right])
    return pinned


def _histogram(
    profile: ColumnProfile, counted: Sequence[tuple[float, str | None, int]], bins: int
) -> tuple[HistogramBin, ...] | None:
    """Equal-width bins over [min, max] from the bin indices SQL counted rows in."""
    low, high = profile.min, profile.max
    if not isinstance(low, int | float) or not isinstance(high, int | float) or not counted:
        return None
    lo, hi = float(low), float(high)
    if hi == lo:
        return (HistogramBin(lo, hi, profile.count),)
    tally = [0] * bins
    for bucket, _, count in counted:
        if math.isfinite(bucket):
            tally[min(max(int(bucket), 0), bins - 1)] += count
    edges = [lo + (hi - lo) * j / bins for j in range(bins)] + [hi]
    return tuple(HistogramBin(edges[j], edges[j + 1], tally[j]) for j in range(bins))


def _with_strings(
    profile: ColumnProfile, row: Mapping[str, Any], column: _Column, parts: Parts
) -> ColumnProfile:
    """Length statistics and patterns of a string column."""
    lmin, lmax, lmean = (row.get(column.alias(s)) for s in ("lmin", "lmax", "lmean"))
    length = (
        LengthStats(int(lmin), int(lmax), float(lmean))
        if lmin is not None and lmax is not None and lmean is not None
        else None
    )
    sampled = parts["s"][0][2] if parts["s"] else 0
    rows = profile.count + profile.nulls
    patterns = []
    for _, shape, count in parts["p"]:
        # Patterns counted on a sample of the distinct values are scaled to the column.
        estimated = count if sampled == profile.count else round(count * profile.count / sampled)
        patterns.append(PatternCount(str(shape), estimated, estimated / rows if rows else 0.0))
    return replace(profile, length=length, patterns=tuple(patterns))


# --- Python values to JSON ----------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _all_finite(values: Sequence[Any] | None) -> list[float] | None:
    """The values as floats; None when there are none or one is not a finite number."""
    floats = [_finite(v) for v in values or ()]
    return [f for f in floats if f is not None] if floats and None not in floats else None


def _json_value(value: Any) -> JsonScalar:
    """A statistic as JSON: numbers (finite), booleans, text, temporal values as ISO text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        return _finite(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _value_text(text: str, column: _Column) -> str:
    """A top value (SQL text) as text that is the same whichever engine produced it.

    Engines spell some values differently (1.0 or 1, a space or a T in a timestamp, a zone
    offset); the text is read back by the column's type and written the Python way: floats by
    ``repr``, temporal values in ISO 8601 (zoned ones in UTC), booleans as true/false.
    """
    try:
        if column.kind == "boolean":
            return "true" if text.lower() in ("true", "t") else "false"
        if column.kind == "numeric":
            if column.type in ("FLOAT", "DOUBLE"):
                return repr(float(text))
            return str(Decimal(text)) if column.type.startswith("DECIMAL") else str(int(text))
        if column.type == "DATE":
            return date.fromisoformat(text).isoformat()
        if column.type == "TIME":
            return time.fromisoformat(text).isoformat()
        if column.kind == "temporal":
            return str(_json_value(datetime.fromisoformat(text)))
    except ValueError:
        pass  # infinity, BC dates, out-of-range years: the engine's own text
    return text

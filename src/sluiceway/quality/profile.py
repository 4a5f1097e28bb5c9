"""Column profiles of a table (or of one load's rows), computed by SQL pushed down to the engine.

A profile is what a person looks at before writing rules and what drift checks compare loads
with: per column the counts, nulls, distinct values, extremes, mean and spread, quantiles and a
101-point quantile sketch, the most frequent values, a histogram, string lengths and the
shapes ("patterns") strings take. :func:`profile_table` builds it in a fixed, small number of
queries whatever the table's width (see its docstring); :meth:`TableProfile.to_dict` gives the
JSON-safe shape the metadata store and the reports keep.

Example::

    >>> import duckdb
    >>> from sqlglot import exp
    >>> from sluiceway.quality.sql import DuckDBRunner
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'CA'), (2, 'NY')) v(id, st)")
    >>> p = profile_table(DuckDBRunner(con), exp.table_("t", quoted=True), table="t")
    >>> p.rows, p.column("st").patterns[0].pattern
    (2, 'A+')
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
QUANTILES: dict[str, float] = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
SKETCH_POINTS = 101
# Up to this many rows DuckDB computes the sketch exactly; above, with its t-digest.
EXACT_SKETCH_ROWS = 100_000
# Above this many distinct values a string column's patterns are estimated from a
# deterministic hash sample of its distinct values: regular expressions over millions of
# distinct e-mail addresses would cost more than the rest of the profile together.
PATTERN_SAMPLE = 50_000
# PostgreSQL allows 1664 result columns; a column takes at most 17 here.
COLUMNS_PER_QUERY = 64


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
    histogram are for numbers, length and patterns for strings. ``stddev`` is the sample one.
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
        quantiles, sketch, length = data.get("quantiles"), data.get("sketch"), data.get("length")
        return cls(
            name=data["name"],
            type=data["type"],
            kind=data["kind"],
            count=data["count"],
            nulls=data["nulls"],
            null_share=data["null_share"],
            distinct=data.get("distinct"),
            min=data.get("min"),
            max=data.get("max"),
            mean=data.get("mean"),
            stddev=data.get("stddev"),
            quantiles=dict(quantiles) if quantiles is not None else None,
            sketch=tuple(sketch) if sketch is not None else None,
            top_values=_many(data.get("top_values"), ValueCount) or (),
            histogram=_many(data.get("histogram"), HistogramBin),
            length=LengthStats(**length) if length is not None else None,
            patterns=_many(data.get("patterns"), PatternCount),
        )


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
_PATTERN_STEPS = (
    (_UPPER + _UPPER + "+", "A+"),
    (_UPPER, "A"),
    (_LOWER + _LOWER + "+", "a+"),
    (_LOWER, "a"),
    (_DIGIT + _DIGIT + "+", "9+"),
    (_DIGIT, "9"),
)


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
    return exp.alias_(expression, name, quoted=True)


def _rel(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _cast(value: exp.Expr, to: str) -> exp.Expr:
    return exp.cast(value, exp.DataType.build(to))


def _count(value: exp.Expr | None = None) -> exp.Count:
    return exp.Count(this=value if value is not None else exp.Star())


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(repr(value) if isinstance(value, float) else value)


def _fractions(points: Sequence[float]) -> exp.Array:
    return exp.Array(expressions=[_number(p) for p in points])


def _ordered(value: exp.Expr, *, desc: bool = False) -> exp.Ordered:
    return exp.Ordered(this=value, desc=desc, nulls_first=False)


def _source(relation: exp.Expr) -> exp.Expr:
    """``relation`` as something a FROM clause takes (queries get an alias)."""
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
    return exp.Subquery(this=exp.select(*items).from_(_rel(cte)))


def _sample_hash(value: exp.Expr, dialect: str) -> exp.Expr | None:
    """A deterministic integer hash of a string in ``dialect``; None where none is known."""
    name = {"duckdb": "HASH", "postgres": "HASHTEXT"}.get(dialect)
    return exp.Anonymous(this=name, expressions=[value]) if name else None


def _value_groups(source: exp.Expr, column: _Column) -> exp.Select:
    """Each non-null value of ``column`` once (``v``), with the rows that hold it (``n``)."""
    key = _col(column.name)
    value = _cast(key, "VARCHAR") if column.kind == "string" else key
    return (
        exp.select(_named(value, "v"), _named(_count(), "n"))
        .from_(source.copy())
        .where(exp.not_(exp.Is(this=key.copy(), expression=exp.Null())))
        .group_by(value.copy())
    )


def _top(cte: str, count: str, limit: int) -> exp.Select:
    """The ``limit`` most frequent rows of ``cte`` (ties by value, for a stable cut)."""
    return (
        exp.select(_col("v"), _named(_col(count), "cnt"))
        .from_(_rel(cte))
        .order_by(_ordered(_col(count), desc=True), _ordered(_col("v")))
        .limit(limit)
    )


def _arrays(cte: str, alias: str) -> list[exp.Expr]:
    """Two scalar subqueries: the ``v`` and the ``cnt`` of ``cte``'s rows, in one order."""

    def array(value: str) -> exp.Expr:
        order = [_ordered(_col("cnt"), desc=True), _ordered(_col("v"))]
        return exp.ArrayAgg(this=exp.Order(this=_col(value), expressions=order))

    return [
        _named(_scalar(array("v"), cte=cte), f"{alias}v"),
        _named(_scalar(array("cnt"), cte=cte), f"{alias}n"),
    ]


def _histogram_groups(groups: str, bins: int) -> exp.Select:
    """Rows per equal-width bin over [min, max] of the column's values (``v``: bin index)."""
    lo, hi = _col("lo", "b"), _col("hi", "b")
    offset = exp.paren(exp.Sub(this=_cast(_col("v"), "DOUBLE"), expression=lo))
    width = exp.Nullif(this=exp.Sub(this=hi, expression=lo.copy()), expression=_number(0))
    scaled = exp.Div(this=exp.Mul(this=offset, expression=_number(bins)), expression=width)
    # max lands in the last bin; a constant column (width 0 -> NULL) in the first.
    bucket = exp.Coalesce(
        this=exp.Least(
            this=exp.Floor(this=scaled), expressions=[_number(bins - 1)], ignore_nulls=True
        ),
        expressions=[_number(0)],
    )
    low = exp.Min(this=_cast(_col("v"), "DOUBLE"))
    high = exp.Max(this=_cast(_col("v"), "DOUBLE"))
    bounds = exp.select(_named(low, "lo"), _named(high, "hi")).from_(_rel(groups))
    return (
        exp.select(_named(bucket, "v"), _named(exp.Sum(this=_col("n")), "cnt"))
        .from_(_rel(groups))
        .join(bounds.subquery(_rel("b")), join_type="CROSS")
        .group_by(bucket.copy())
    )


def _pattern_groups(groups: str, dialect: str) -> exp.Select:
    """Rows per pattern over the column's distinct values (a hash sample of them when many)."""
    pattern = pattern_expression(_col("v"))
    query = (
        exp.select(_named(pattern, "v"), _named(exp.Sum(this=_col("n")), "cnt"))
        .from_(_rel(groups))
        .group_by(pattern.copy())
    )
    hashed = _sample_hash(_col("v"), dialect)
    if hashed is None:
        return query
    distinct = _scalar(_count(), cte=groups)
    share = exp.Div(this=_cast(distinct.copy(), "DOUBLE"), expression=_number(PATTERN_SAMPLE))
    stride = _cast(exp.Ceil(this=share), "BIGINT")
    # Hashes may be negative (PostgreSQL); `% k = 0` keeps one value in k either way.
    keep = exp.or_(
        exp.LTE(this=distinct, expression=_number(PATTERN_SAMPLE)),
        exp.EQ(this=exp.Mod(this=hashed, expression=stride), expression=_number(0)),
    )
    return query.where(keep)


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


def _column_outputs(
    source: exp.Expr, column: _Column, *, bins: int, top_n: int, dialect: str, approximate: bool
) -> tuple[list[exp.Expr], list[exp.CTE]]:
    """The select items and the CTEs that compute ``column``'s statistics."""
    name = _col(column.name)
    items: list[exp.Expr] = [_named(_count(name.copy()), column.alias("n"))]
    ctes: list[exp.CTE] = []
    if column.kind == "other":
        return items, ctes

    def cte(suffix: str, query: exp.Select) -> str:
        alias = column.alias(suffix)
        ctes.append(exp.CTE(this=query, alias=exp.TableAlias(this=_rel(alias)), materialized=True))
        return alias

    value = _cast(name.copy(), "VARCHAR") if column.kind == "string" else name.copy()
    # PostgreSQL has no min/max over booleans.
    low: exp.Expr = exp.LogicalAnd(this=value) if column.kind == "boolean" else exp.Min(this=value)
    high: exp.Expr = (
        exp.LogicalOr(this=value.copy()) if column.kind == "boolean" else exp.Max(this=value.copy())
    )
    groups = cte("g", _value_groups(source, column))
    items += [_named(low, column.alias("min")), _named(high, column.alias("max"))]
    items.append(_named(_scalar(_count(), cte=groups), column.alias("d")))
    items += _arrays(cte("t", _top(groups, "n", top_n)), column.alias("t"))
    if column.kind == "numeric":
        number = _cast(name.copy(), "DOUBLE")
        items += [
            _named(exp.Avg(this=number), column.alias("mean")),
            _named(exp.StddevSamp(this=number.copy()), column.alias("sd")),
            *_quantile_items(column, number, approximate=approximate),
            *_arrays(cte("h", _histogram_groups(groups, bins)), column.alias("h")),
        ]
    if column.kind == "string":
        length = exp.Length(this=_cast(name.copy(), "VARCHAR"))
        patterns = cte("p", _pattern_groups(groups, dialect))
        items += [
            _named(exp.Min(this=length), column.alias("lmin")),
            _named(exp.Max(this=length.copy()), column.alias("lmax")),
            _named(exp.Avg(this=_cast(length.copy(), "DOUBLE")), column.alias("lmean")),
            *_arrays(cte("pt", _top(patterns, "cnt", top_n)), column.alias("p")),
            _named(_scalar(exp.Sum(this=_col("cnt")), cte=patterns), column.alias("ps")),
        ]
    return items, ctes


def _profile_query(
    source: exp.Expr,
    columns: Sequence[_Column],
    *,
    bins: int,
    top_n: int,
    dialect: str,
    approximate: bool = False,
) -> exp.Select:
    """One query: a single scan for the per-row aggregates, plus one GROUP BY per column
    (materialised) that the distinct count, top values, histogram and patterns all read."""
    items: list[exp.Expr] = [_named(_count(), "rows")]
    ctes: list[exp.CTE] = []
    for column in columns:
        more_items, more_ctes = _column_outputs(
            source, column, bins=bins, top_n=top_n, dialect=dialect, approximate=approximate
        )
        items += more_items
        ctes += more_ctes
    query = exp.select(*items).from_(source.copy())
    if ctes:
        query.set("with_", exp.With(expressions=ctes))
    return query


# --- running it ------------------------------------------------------------------------------


def profile_table(
    runner: SqlRunner,
    relation: exp.Expr,
    *,
    table: str,
    load_id: str | None = None,
    columns: Sequence[str] | None = None,
    top_n: int = 10,
    bins: int = 20,
) -> TableProfile:
    """Profile ``relation`` (a table, or a query such as one load's rows) through ``runner``.

    Queries: one ``LIMIT 0`` read of the column types, then one query per 64 profiled columns
    (so two for most tables). Each such query scans the relation once for the per-row
    aggregates (counts, extremes, mean, sample stddev, quantiles, string lengths) and groups each
    column once; the distinct count, top values, histogram and patterns are read off those
    groups. A runner that cannot type an empty result (all-NULL Arrow types) costs one more
    cheap query that fetches a non-null value of each such column.

    ``columns`` limits (and orders) the profiled columns; ``top_n`` caps top values and
    patterns; ``bins`` is the histogram's number of equal-width bins over [min, max].
    """
    if top_n < 1 or bins < 1:
        raise ConfigError(
            f"cannot profile {table} with top_n={top_n} and bins={bins}",
            hint="Both must be at least 1.",
        )
    source = _source(relation)
    profiled, rows = _columns(runner, source, table, columns)
    approximate = runner.dialect == "duckdb" and rows > EXACT_SKETCH_ROWS
    results: list[ColumnProfile] = []
    chunks = [
        profiled[start : start + COLUMNS_PER_QUERY]
        for start in range(0, len(profiled), COLUMNS_PER_QUERY)
    ] or [[]]
    for chunk in chunks:
        query = _profile_query(
            source, chunk, bins=bins, top_n=top_n, dialect=runner.dialect, approximate=approximate
        )
        fetched = runner.fetch(query).to_pylist()
        row = fetched[0] if fetched else {}
        rows = int(row.get("rows") or 0)
        results += [_column_profile(column, row, rows, bins) for column in chunk]
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


def _column_profile(column: _Column, row: Mapping[str, Any], rows: int, bins: int) -> ColumnProfile:
    """One column's :class:`ColumnProfile` from the profile query's row."""

    def get(stat: str) -> Any:
        return row.get(column.alias(stat))

    count = int(get("n") or 0)
    nulls = rows - count
    values = get("tv") or []
    counts = get("tn") or []
    profile = ColumnProfile(
        name=column.name,
        type=column.type,
        kind=column.kind,
        count=count,
        nulls=nulls,
        null_share=nulls / rows if rows else 0.0,
        distinct=None if column.kind == "other" else int(get("d") or 0),
        min=_json_value(get("min")),
        max=_json_value(get("max")),
        top_values=tuple(
            ValueCount(_text(v), int(n), int(n) / rows) for v, n in zip(values, counts, strict=True)
        ),
    )
    if column.kind == "numeric":
        profile = _with_numbers(profile, row, column, bins)
    if column.kind == "string":
        profile = _with_strings(profile, row, column)
    return profile


def _with_numbers(
    profile: ColumnProfile, row: Mapping[str, Any], column: _Column, bins: int
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
    hist = _histogram(profile, row.get(column.alias("hv")), row.get(column.alias("hn")), bins)
    return replace(
        profile,
        mean=_finite(row.get(column.alias("mean"))),
        stddev=_finite(row.get(column.alias("sd"))),
        quantiles=quantiles if pinned else None,
        sketch=tuple(pinned) if pinned else None,
        histogram=hist,
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
    profile: ColumnProfile, buckets: Any, counts: Any, bins: int
) -> tuple[HistogramBin, ...] | None:
    """Equal-width bins over [min, max] from the bucket indices SQL counted rows in."""
    low, high = profile.min, profile.max
    if not isinstance(low, int | float) or not isinstance(high, int | float) or not buckets:
        return None
    lo, hi = float(low), float(high)
    if hi == lo:
        return (HistogramBin(lo, hi, profile.count),)
    tally = [0] * bins
    for bucket, count in zip(buckets, counts, strict=True):
        if bucket is not None and math.isfinite(bucket):
            tally[min(max(int(bucket), 0), bins - 1)] += int(count)
    edges = [lo + (hi - lo) * j / bins for j in range(bins)] + [hi]
    return tuple(HistogramBin(edges[j], edges[j + 1], tally[j]) for j in range(bins))


def _with_strings(profile: ColumnProfile, row: Mapping[str, Any], column: _Column) -> ColumnProfile:
    """Length statistics and patterns of a string column."""
    lmin, lmax, lmean = (row.get(column.alias(s)) for s in ("lmin", "lmax", "lmean"))
    length = (
        LengthStats(int(lmin), int(lmax), float(lmean))
        if lmin is not None and lmax is not None and lmean is not None
        else None
    )
    shapes = row.get(column.alias("pv")) or []
    counts = row.get(column.alias("pn")) or []
    sampled = int(row.get(column.alias("ps")) or 0)
    rows = profile.count + profile.nulls
    # Patterns counted on a sample of distinct values are scaled to the column's count.
    scale = profile.count / sampled if sampled else 1.0
    patterns = []
    for shape, count in zip(shapes, counts, strict=True):
        estimated = int(count) if sampled == profile.count else round(int(count) * scale)
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
    if not values:
        return None
    floats: list[float] = []
    for value in values:
        number = _finite(value)
        if number is None:
            return None
        floats.append(number)
    return floats


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


def _text(value: Any) -> str:
    """A top value as text, the same whichever engine produced it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date | time):
        return str(_json_value(value))
    return str(value)

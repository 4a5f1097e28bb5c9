"""sqlglot building blocks the operations share: quoted names, literals, user SQL, orderings.

Every identifier is quoted (a column called ``order`` or ``Name`` means exactly that on both
engines) and every value becomes a typed literal of the tree, never text pasted into SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlglot import exp

from sluiceway.core.sql_compile import SqlCompileError, parse_sql

Scalar = bool | int | float | datetime | date | str
"""A value an operation compares with or produces (a YAML scalar)."""

# What computes a value: a `derive` or `sql:` condition is one of these, never a statement.
_VALUES = (exp.Condition, exp.Subquery, exp.Interval)


def ident(name: str) -> exp.Identifier:
    """``name`` as an always-quoted identifier."""
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """The column ``name`` (of ``table`` when given), quoted."""
    return exp.Column(this=ident(name), table=ident(table) if table is not None else None)


def cols(names: Iterable[str], table: str | None = None) -> list[exp.Expr]:
    return [col(name, table) for name in names]


def alias(expression: exp.Expr, name: str) -> exp.Alias:
    """``expression AS "name"``."""
    return exp.Alias(this=expression, alias=ident(name))


def table(name: str) -> exp.Table:
    """A relation named ``name`` (``schema.table`` parts split on dots), every part quoted."""
    parts = name.split(".")
    if not all(part.strip() for part in parts):
        raise ValueError(f"{name!r} is not a table name")
    found = exp.Table(this=ident(parts[-1]))
    if len(parts) > 1:
        found.set("db", ident(parts[-2]))
    if len(parts) > 2:
        found.set("catalog", ident(".".join(parts[:-2])))
    return found


def datatype(text: str) -> exp.DataType:
    """A DuckDB type name as a sqlglot type; a name DuckDB does not know is refused."""
    try:
        built = exp.DataType.build(text, dialect="duckdb")
    except Exception as exc:  # sqlglot raises ParseError or ValueError depending on the text
        raise ValueError(f"{text!r} is not a DuckDB type (INTEGER, DOUBLE, DATE, ...)") from exc
    if built.this == exp.DataType.Type.USERDEFINED:
        raise ValueError(f"{text!r} is not a DuckDB type (INTEGER, DOUBLE, DATE, ...)")
    return built


def literal(value: Scalar | None) -> exp.Expr:
    """A typed literal: dates and timestamps as casts of ISO text, so both engines read them the
    same whatever their settings."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written as a SQL literal")
        return exp.Literal.number(repr(value))
    if isinstance(value, datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        text = value.isoformat(sep=" ")
        return exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build(kind))
    if isinstance(value, date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(value)


def parse_expression(text: str) -> exp.Expr:
    """One SQL expression in DuckDB's dialect (``amount * 1.2``, ``lower(email)``); a statement,
    several statements or text sqlglot cannot parse is refused."""
    if not text.strip():
        raise ValueError("the SQL expression is empty")
    try:
        parsed = parse_sql(text, "duckdb")
    except SqlCompileError as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(parsed, _VALUES):
        raise ValueError(f"expected a SQL expression, got a statement: {text!r}")
    return parsed


def tables_in(text: str) -> set[str]:
    """The (lower-cased) tables a SQL expression reads, in subqueries: ``schema.table`` when
    written so, else ``table``."""
    return {
        (f"{t.db}.{t.name}" if t.db else t.name).lower()
        for t in parse_expression(text).find_all(exp.Table)
        if t.name
    }


def ordered(
    expression: exp.Expr, *, desc: bool = False, nulls_first: bool | None = None
) -> exp.Ordered:
    """An ORDER BY term with its NULL placement spelled out: DuckDB puts NULLs last both ways,
    PostgreSQL first when descending, so the placement is always explicit (``nulls_first``
    None: last, DuckDB's default)."""
    return exp.Ordered(this=expression, desc=desc, nulls_first=bool(nulls_first))


def window(
    function: exp.Expr,
    *,
    partition_by: Sequence[exp.Expr] = (),
    order_by: Sequence[exp.Ordered] = (),
    frame: exp.WindowSpec | None = None,
) -> exp.Window:
    """``function OVER (PARTITION BY ... ORDER BY ... frame)``."""
    return exp.Window(
        this=function,
        partition_by=list(partition_by) or None,
        order=exp.Order(expressions=list(order_by)) if order_by else None,
        spec=frame,
        over="OVER",
    )


def rows_frame(preceding: int | None) -> exp.WindowSpec:
    """``ROWS BETWEEN n PRECEDING AND CURRENT ROW`` (``None``: ``UNBOUNDED PRECEDING``): rows,
    not the default range, so rows tied on the ordering do not share a value."""
    start: exp.Expr | str = "UNBOUNDED" if preceding is None else exp.Literal.number(preceding)
    return exp.WindowSpec(kind="ROWS", start=start, start_side="PRECEDING", end="CURRENT ROW")


def cast(expression: exp.Expr, to: str | exp.DataType) -> exp.Cast:
    target = to if isinstance(to, exp.DataType) else exp.DataType.build(to, dialect="duckdb")
    return exp.Cast(this=expression, to=target)


def function(name: str, *args: exp.Expr) -> exp.Anonymous:
    """A call sqlglot keeps as written (``NAME(args)``)."""
    return exp.Anonymous(this=name, expressions=list(args))

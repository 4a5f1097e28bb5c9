"""The SELECT a database source sends, built as a sqlglot tree: quoted names, bound values.

A table is read as ``SELECT <columns> FROM "schema"."table"``; a query is nested as
``SELECT <columns> FROM (<query>) AS "_sluiceway_query"`` when columns or a cursor bound must
apply to its output (and sent as written otherwise). An incremental cursor's bounds become a
``WHERE`` with driver placeholders, never literal values::

    SELECT "id", "updated_at" FROM "public"."orders" WHERE "updated_at" > %s

Both drivers (psycopg, PyMySQL) take ``%s`` placeholders and read ``%%`` as ``%``, so every
``%`` that is not a placeholder (in a name or in the query's text) is doubled, and the
statement is always executed with a parameter tuple (possibly empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlglot import exp

from sluiceway.sources.base import CursorBounds

Dialect = Literal["postgres", "mysql"]
QUERY_ALIAS = "_sluiceway_query"


@dataclass(frozen=True, slots=True)
class Relation:
    """What a source reads: a table (``schema`` may be ``None``) or a query's text."""

    table: str | None = None
    schema: str | None = None
    query: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text with ``%s`` placeholders, and the values they stand for."""

    sql: str
    params: tuple[Any, ...] = ()


def _name(name: str) -> exp.Identifier:
    return exp.to_identifier(name.replace("%", "%%"), quoted=True)


def _param() -> exp.Expr:
    return exp.var("%s")  # the drivers' placeholder, written verbatim


def _from(relation: Relation) -> exp.Expr:
    if relation.query is not None:
        # Newlines around the text: a trailing -- comment must not swallow the parenthesis.
        text = exp.var(f"\n{relation.query.replace('%', '%%')}\n")
        return exp.Subquery(this=text, alias=exp.TableAlias(this=_name(QUERY_ALIAS)))
    if relation.table is None:
        raise ValueError("a relation is a table or a query")
    schema = _name(relation.schema) if relation.schema is not None else None
    return exp.Table(this=_name(relation.table), db=schema)


def _where(bounds: CursorBounds) -> tuple[exp.Expr | None, tuple[Any, ...]]:
    column = exp.Column(this=_name(bounds.column))
    conditions: list[exp.Expr] = []
    params: list[Any] = []
    if bounds.lower is not None:
        compare = exp.GTE if bounds.lower_inclusive else exp.GT
        conditions.append(compare(this=column.copy(), expression=_param()))
        params.append(bounds.lower)
    if bounds.upper is not None:
        before: exp.Expr = exp.LT(this=column.copy(), expression=_param())
        if bounds.keeps_nulls:  # the engine keeps rows without a cursor when unbounded below
            before = exp.paren(exp.or_(before, exp.Is(this=column.copy(), expression=exp.null())))
        conditions.append(before)
        params.append(bounds.upper)
    if not conditions:
        return None, ()
    return exp.and_(*conditions), tuple(params)


def select_rows(
    relation: Relation,
    *,
    dialect: Dialect,
    columns: Sequence[str] = (),
    bounds: CursorBounds | None = None,
    limit: int | None = None,
) -> Statement:
    """The statement reading ``columns`` (all when empty) of ``relation`` within ``bounds``.

    >>> select_rows(Relation("orders", "sales"), dialect="postgres", columns=["id"]).sql
    'SELECT "id" FROM "sales"."orders"'
    """
    where, params = _where(bounds) if bounds is not None else (None, ())
    if relation.query is not None and not columns and where is None and limit is None:
        return Statement(relation.query.replace("%", "%%"))
    projection: list[exp.Expr] = [exp.Column(this=_name(name)) for name in columns]
    projection = projection or [exp.Star()]
    select = exp.select(*projection).from_(_from(relation))
    if where is not None:
        select = select.where(where)
    if limit is not None:
        select = select.limit(limit)
    return Statement(select.sql(dialect=dialect), params)


def describe_rows(relation: Relation, *, dialect: Dialect, columns: Sequence[str]) -> Statement:
    """A statement that returns no row, only the columns and their types."""
    return select_rows(relation, dialect=dialect, columns=columns, limit=0)

"""One read of a database source, the same for every dialect.

1. connect, and open a read-only transaction (one snapshot for the catalog and the rows);
2. a table: look it up in the catalog (a missing one is an error listing the tables);
3. describe the rows (``SELECT … LIMIT 0``): the Arrow schema is fixed before the first row;
4. put the incremental cursor's bounds into the ``WHERE``, as bound parameters;
5. stream the rows through a server-side cursor, ``batch_size`` rows at a time, into Arrow.

The dialect's part is a :class:`Driver`: the connection, its catalog and its type mapping.
The rows stream from a generator that owns the connection; it is started before
``read`` returns (the connection open, the rows described), so the connection closes when the
generator finishes or is discarded, whichever comes first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

import pyarrow as pa

from sluiceway.core.errors import ConfigError, Location
from sluiceway.core.sql_types import arrow_type, parse_sql_type
from sluiceway.sources.base import CursorBounds, ReadContext
from sluiceway.sources.sql.arrow_rows import BatchBuilder, ColumnPlan
from sluiceway.sources.sql.catalog import TableInfo, missing_columns_hint
from sluiceway.sources.sql.redaction import redacted
from sluiceway.sources.sql.server_url import secrets_of
from sluiceway.sources.sql.spec import SqlSourceSpec
from sluiceway.sources.sql.statements import (
    Dialect,
    Relation,
    Statement,
    describe_rows,
    select_rows,
)

Rows = Sequence[Sequence[Any]]


class Driver(Protocol):
    """An open connection of one dialect, inside a read-only transaction."""

    dialect: Dialect
    label: str  # host:port/database, for messages and lineage

    @property
    def nulled(self) -> int:
        """Values the driver read as NULL for want of a Python value (infinite dates)."""

    def table(self, name: str) -> TableInfo:
        """The catalog's entry for ``name``; ``SourceNotFoundError`` listing tables if none."""

    def describe(self, statement: Statement) -> list[ColumnPlan]:
        """The plans of the columns ``statement`` returns (it returns no row)."""

    def fetch(self, statement: Statement, batch_size: int) -> Iterator[Rows]:
        """``statement``'s rows, ``batch_size`` at a time, from a server-side cursor."""

    def close(self) -> None:
        """Close the connection (the transaction only read, so nothing is lost)."""


Connect = Callable[[], Driver]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    statement: Statement
    builder: BatchBuilder
    table: TableInfo | None
    bounds: CursorBounds | None


def read_rows(config: SqlSourceSpec, ctx: ReadContext, connect: Connect) -> pa.RecordBatchReader:
    """The rows of ``config``'s table or query as a reader of bounded batches."""
    stream = _stream(config, ctx, connect)
    first = next(stream)  # an empty batch: the schema, known before any row is fetched
    return pa.RecordBatchReader.from_batches(first.schema, stream)


def discover(config: SqlSourceSpec, connect: Connect) -> TableInfo:
    """The catalog's description of ``config``'s table: columns, primary and foreign keys."""
    if config.source_table is None:
        raise ConfigError(
            "a `query` source has no table in the catalog to describe",
            hint="Discover the tables the query reads, as `source_table` sources.",
        )
    with redacted(secrets_of(config.connection.get_secret_value())):
        driver = connect()
        try:
            return driver.table(config.source_table)
        finally:
            driver.close()


def _stream(config: SqlSourceSpec, ctx: ReadContext, connect: Connect) -> Iterator[pa.RecordBatch]:
    with redacted(secrets_of(config.connection.get_secret_value())):
        driver = connect()
        try:
            plan = _plan(driver, config, ctx)
            builder = plan.builder
            yield builder.build([])
            for rows in driver.fetch(plan.statement, ctx.batch_size):
                ctx.cancel.check()
                yield builder.build(rows)
            nulled = builder.nulled + driver.nulled
            if nulled:
                ctx.notes.append(
                    f"{nulled:,} value(s) with no Arrow equivalent (infinite or BC dates, "
                    "NaN numerics, zero dates, times outside a day) loaded as NULL"
                )
        finally:
            driver.close()


def _plan(driver: Driver, config: SqlSourceSpec, ctx: ReadContext) -> _Plan:
    table: TableInfo | None = None
    if config.source_table is not None:
        table = driver.table(config.source_table)
        relation = Relation(table=table.name, schema=table.schema)
        origin = f"{driver.label}/{table.qualified}"
        if table.primary_key and not ctx.settings.primary_key:
            ctx.notes.append(
                f"{table.qualified} has the primary key ({', '.join(table.primary_key)}); "
                "`primary_key` is not set"
            )
    else:
        relation = Relation(query=config.stripped_query)
        origin = f"{driver.label}/query"
    described = driver.describe(describe_rows(relation, dialect=driver.dialect, columns=()))
    plans = _declared(_chosen(described, config.source_columns, table), config.columns)
    bounds = pushable(ctx.cursor, plans)
    columns = [plan.name for plan in plans] if config.source_columns else []
    statement = select_rows(relation, dialect=driver.dialect, columns=columns, bounds=bounds)
    if bounds is not None:
        ctx.notes.append(f"read only rows with {_describe_bounds(bounds)} (in the query)")
    builder = BatchBuilder(plans, origin=origin if ctx.lineage else None)
    return _Plan(statement, builder, table, bounds)


def _chosen(
    plans: list[ColumnPlan], wanted: Sequence[str], table: TableInfo | None
) -> list[ColumnPlan]:
    """The plans of the ``source_columns`` (all when none are listed), in their order."""
    names = [plan.name for plan in plans]
    twice = sorted({name for name in names if names.count(name) > 1})
    where = Location(table=table.qualified) if table is not None else None
    if twice:
        raise ConfigError(
            f"the query returns more than one column named {', '.join(map(repr, twice))}",
            hint="Give each column its own name (SELECT a.id AS order_id, b.id AS customer_id).",
            location=where,
        )
    if not wanted:
        return plans
    by_name = {plan.name: plan for plan in plans}
    missing = [name for name in wanted if name not in by_name]
    if missing:
        raise ConfigError(
            f"`source_columns` lists {', '.join(map(repr, missing))}, which the "
            f"{'table' if table is not None else 'query'} does not have",
            hint=missing_columns_hint(names),
            location=where,
        )
    return [by_name[name] for name in wanted]


def _declared(plans: list[ColumnPlan], declared: dict[str, str]) -> list[ColumnPlan]:
    """Columns with a type under ``columns:`` are cast to it (a value that does not fit stops
    the read with the column's name)."""
    if not declared:
        return plans
    names = {plan.name for plan in plans}
    unknown = [name for name in declared if name not in names]
    if unknown:
        raise ConfigError(
            f"`columns` declares {', '.join(map(repr, unknown))}, which the source does not read",
            hint=missing_columns_hint(sorted(names)),
        )
    return [
        dataclasses.replace(
            plan,
            arrow=arrow_type(parse_sql_type(declared[plan.name], column=plan.name)),
            via=plan.via or plan.arrow,
        )
        if plan.name in declared
        else plan
        for plan in plans
    ]


def pushable(bounds: CursorBounds | None, plans: Sequence[ColumnPlan]) -> CursorBounds | None:
    """The part of ``bounds`` the database can apply to the cursor column as typed.

    A bound that does not fit the column's type is dropped (the engine's exact filter then
    reports the mismatch); a datetime gets the column's zone semantics (naive times of a zoned
    column are UTC, as the engine reads them).
    """
    if bounds is None:
        return None
    plan = next((plan for plan in plans if plan.name == bounds.column), None)
    if plan is None:
        return None
    lower = _fit(bounds.lower, plan.arrow)
    upper = _fit(bounds.upper, plan.arrow)
    if lower is None and upper is None:
        return None
    return CursorBounds(
        bounds.column, lower=lower, lower_inclusive=bounds.lower_inclusive, upper=upper
    )


def _fit(value: Any, type_: pa.DataType) -> Any:
    if value is None or isinstance(value, bool):
        return None
    if pa.types.is_integer(type_) or pa.types.is_floating(type_):
        return value if isinstance(value, int | float) else None
    if pa.types.is_date(type_):
        return value if isinstance(value, date) else None
    if not pa.types.is_timestamp(type_):
        return None
    if isinstance(value, datetime):
        if type_.tz is not None:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    return value if isinstance(value, date) else None


def _describe_bounds(bounds: CursorBounds) -> str:
    parts = []
    if bounds.lower is not None:
        parts.append(f"{bounds.column} {'>=' if bounds.lower_inclusive else '>'} {bounds.lower}")
    if bounds.upper is not None:
        parts.append(f"{bounds.column} < {bounds.upper}")
    return " and ".join(parts)

"""Rows from a database cursor into Arrow record batches of one fixed schema.

Each column has a :class:`ColumnPlan`, decided from the cursor's description before the first
row: its Arrow type, and how the driver's Python values get there. Building an array is one
``pyarrow.array`` call per column (C speed); the per-value Python ``repair`` runs only when
that fails, for values Arrow has no place for (PostgreSQL's ``NaN`` numerics, MySQL's zero
dates), which become NULL and are counted for the run report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sluiceway.core.errors import Location, MalformedInputError, SourceError
from sluiceway.core.names import SOURCE_COLUMN

Convert = Callable[[Any], Any]
_BUILD_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """How one result column becomes an Arrow array."""

    name: str
    arrow: pa.DataType  # its type in every batch
    db_type: str  # the database's name for it, for messages
    via: pa.DataType | None = None  # the driver's values are built as this, then cast to arrow
    convert: Convert | None = None  # applied to every non-NULL value (MySQL's 0/1 booleans)
    repair: Convert | None = None  # only when building fails; None for a value with no place


class BatchBuilder:
    """Turns lists of row tuples into record batches of :attr:`schema`.

    ``origin`` (host:port/database/table) fills the ``_sluiceway_source`` lineage column when
    given. ``nulled`` counts the values that had no Arrow equivalent and became NULL.
    """

    def __init__(self, plans: Sequence[ColumnPlan], *, origin: str | None = None) -> None:
        self.plans = list(plans)
        self.origin = origin
        fields = [pa.field(plan.name, plan.arrow) for plan in self.plans]
        if origin is not None:
            if any(plan.name == SOURCE_COLUMN for plan in self.plans):
                raise SourceError(
                    f"the source already has a column named {SOURCE_COLUMN}",
                    hint="Leave it out (`source_columns`) or set `lineage: false`.",
                )
            fields.append(pa.field(SOURCE_COLUMN, pa.string()))
        self.schema = pa.schema(fields)
        self.nulled = 0

    def build(self, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
        count = len(rows)
        values: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else []
        if not values:
            values = [() for _ in self.plans]
        arrays = [
            self._array(plan, list(column)) for plan, column in zip(self.plans, values, strict=True)
        ]
        if self.origin is not None:
            arrays.append(pa.array([self.origin] * count, pa.string()))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _array(self, plan: ColumnPlan, values: list[Any]) -> pa.Array:
        if plan.convert is not None:
            convert = plan.convert
            before = values.count(None)
            values = [None if value is None else convert(value) for value in values]
            self.nulled += values.count(None) - before
        try:
            return _build(plan, values)
        except _BUILD_ERRORS as exc:
            if plan.repair is None:
                raise _unreadable(plan, exc) from exc
            first = exc
        repair = plan.repair
        before = values.count(None)
        repaired = [None if value is None else repair(value) for value in values]
        try:
            array = _build(plan, repaired)
        except _BUILD_ERRORS as exc:
            raise _unreadable(plan, exc) from first
        self.nulled += repaired.count(None) - before
        return array


def _build(plan: ColumnPlan, values: list[Any]) -> pa.Array:
    if plan.via is None:
        return pa.array(values, type=plan.arrow)
    return pa.array(values, type=plan.via).cast(plan.arrow)


def _unreadable(plan: ColumnPlan, exc: Exception) -> MalformedInputError:
    return MalformedInputError(
        f"a value of column {plan.name!r} ({plan.db_type}) does not fit {plan.arrow}: {exc}",
        location=Location(column=plan.name),
        hint="Read the column through a `query:` that casts it (to text, for one), or leave it "
        "out with `source_columns`.",
    )

"""Cursor-based incremental reads: only rows past the last committed cursor value.

The cursor filters the source's batches as they stream (before cleaning and the contract, on
the source's own column) and remembers the largest value it let through. The runner hands that
value to the load, which writes it to ``_sluiceway.state`` in the same transaction as the rows.

Bounds, for a cursor ``c`` with stored value ``last``:

- first run: ``c >= initial_value`` (every row when there is none);
- later runs: ``c > last``, or ``c >= last - lookback`` with a lookback (the merge on the
  primary key folds re-read rows into the ones they repeat);
- always ``c < end_value`` when one is set.

Rows whose cursor is NULL cannot be placed: they load on a run without a lower bound (the
first one, without ``initial_value``) and are skipped, and counted, on the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.core.errors import ConfigError
from sluiceway.engine.periods import PERIODS_STATE, Periods
from sluiceway.sources.base import CursorBounds
from sluiceway.sources.files.tracking import FILES_STATE, FileTracker
from sluiceway.spec.incremental import IncrementalSpec
from sluiceway.warehouses.base import Load

CURSOR_STATE = "cursor"


def _scalar(value: Any, type_: pa.DataType, *, what: str) -> pa.Scalar:
    """``value`` (from YAML or the stored JSON) as a scalar of the cursor column's type."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = value if isinstance(value, str) else json.dumps(value)
    array = pa.array([text], pa.string())
    try:
        return array.cast(type_)[0]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if pa.types.is_timestamp(type_) and type_.tz is not None:
        try:  # a naive text for a zoned column reads as UTC
            return array.cast(pa.timestamp(type_.unit)).cast(type_)[0]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    raise ConfigError(
        f"incremental: {what} {value!r} is not a value of the cursor's type {type_}",
        hint="Write it like the column's values, e.g. 2024-01-01T00:00:00 for a timestamp.",
    )


def _plain(value: Any) -> Any:
    """A cursor value as JSON-ready data: times as ISO text, numbers as they are."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value if isinstance(value, int | float | str) else str(value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")


def _bound(value: Any) -> Any:
    """A cursor value (from YAML, the CLI or the stored JSON) as a Python value a database
    driver binds: a number, a date or a datetime; ``None`` when it reads as none of them."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | datetime | date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        if _ISO_TIMESTAMP.match(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return None


def _behind(value: Any, lookback: timedelta | float) -> Any:
    """``value`` moved ``lookback`` back, never later than the engine's own bound; ``None``
    when the two do not fit together (the engine reports that itself)."""
    if isinstance(lookback, timedelta):
        if isinstance(value, datetime):
            return value - lookback
        if isinstance(value, date):  # whole days: round down, never up
            return (datetime.combine(value, time()) - lookback).date()
        return None
    if isinstance(value, int | float):
        return value - lookback
    return None


@dataclass(frozen=True, slots=True)
class Backfill:
    """Re-read one source's rows with the cursor in ``[start, end)``; the live cursor stays."""

    source: str
    start: Any
    end: Any


class Cursor:
    """Filters one load's batches by the cursor and tracks the largest value loaded.

    With a ``window`` (a backfill) the bounds are the window's, and the stored cursor is
    neither used nor moved. Time cursors also note the periods (``interval``) of the rows
    they let through.
    """

    def __init__(
        self,
        spec: IncrementalSpec,
        stored: str | None,
        *,
        window: tuple[Any, Any] | None = None,
        periods: str | None = None,
    ) -> None:
        if spec.cursor is None:
            raise ValueError("a Cursor needs the spec's cursor column")
        self.spec = spec
        self.column: str = spec.cursor
        self.stored: Any = None
        if stored is not None:
            kept = json.loads(stored)
            column = kept.get("column") if isinstance(kept, dict) else None
            if column is not None and column.lower() != self.column.lower():
                raise ConfigError(
                    f"incremental: the stored cursor is on column {column!r}, and the source's "
                    f"cursor is now {self.column!r}",
                    hint="Reset the source's state to start the new cursor: "
                    "`sluiceway state reset --source NAME` (optionally `--to VALUE`).",
                )
            self.stored = kept.get("value") if isinstance(kept, dict) else kept
        self.highest: pa.Scalar | None = None
        self.skipped_null = 0
        self.skipped_behind = 0  # rows at or behind the bound (already loaded)
        self.skipped_ahead = 0  # rows at or past end_value
        self.lower: pa.Scalar | None = None
        self.upper: pa.Scalar | None = None
        self.inclusive = True
        self.window = window
        self.stored_periods = periods
        self.periods: Periods | None = None

    def read_bounds(self) -> CursorBounds | None:
        """The bounds :meth:`filter` will apply, before the column's type is known, for a
        source that can filter where it reads (a SQL ``WHERE``); ``None`` when unbounded.

        Values are Python values (numbers, dates, datetimes). One that does not read as such,
        or a lookback that does not fit it, leaves that side unbounded: the source then reads
        more than needed, and this cursor's filter stays exact and reports the problem.
        """
        lower: Any = None
        inclusive = True
        if self.window is not None:
            lower, upper = _bound(self.window[0]), _bound(self.window[1])
        else:
            upper = _bound(self.spec.end_value)
            if self.stored is not None:
                lookback = self.spec.lookback_delta()
                last = _bound(self.stored)
                if lookback is None:
                    lower, inclusive = last, False
                elif last is not None:
                    lower = _behind(last, lookback)
            else:
                lower = _bound(self.spec.initial_value)
        if lower is None and upper is None:
            return None
        return CursorBounds(self.column, lower=lower, lower_inclusive=inclusive, upper=upper)

    def filter(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        schema = reader.schema
        name = self.column
        index = schema.get_field_index(name)
        if index < 0:
            raise ConfigError(
                f"incremental: the cursor column {name!r} is not in the source's rows",
                hint=f"Columns: {', '.join(schema.names)}",
            )
        type_ = schema.field(index).type
        if not (
            pa.types.is_temporal(type_) or pa.types.is_integer(type_) or pa.types.is_floating(type_)
        ):
            raise ConfigError(
                f"incremental: the cursor column {name!r} is {type_}; a cursor must be a "
                "timestamp, a date or a number",
                hint="Declare its type under `columns:` if the source reads it as text.",
            )
        if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
            self.periods = Periods(self.spec.interval, self.stored_periods)
        self._bounds(type_)
        if self.window is not None:
            self.upper = _scalar(self.window[1], type_, what="--to")
        elif self.spec.end_value is not None:
            self.upper = _scalar(self.spec.end_value, type_, what="end_value")
        return pa.RecordBatchReader.from_batches(schema, self._batches(reader, index, self.upper))

    def _bounds(self, type_: pa.DataType) -> None:
        if self.window is not None:
            self.lower, self.inclusive = _scalar(self.window[0], type_, what="--from"), True
            if not pc.less(self.lower, _scalar(self.window[1], type_, what="--to")).as_py():
                raise ConfigError(
                    f"backfill: --from {self.window[0]} is not before --to {self.window[1]}",
                    hint="The window is [from, to): from is included, to is not.",
                )
        elif self.stored is not None:
            last = _scalar(self.stored, type_, what="the stored cursor")
            self.highest = last
            lookback = self.spec.lookback_delta()
            if lookback is None:
                self.lower, self.inclusive = last, False
                return
            if isinstance(lookback, timedelta) != pa.types.is_temporal(type_):
                kind = "a duration" if isinstance(lookback, timedelta) else "a number"
                raise ConfigError(
                    f"incremental: lookback {self.spec.lookback!r} is {kind}, which does not "
                    f"fit a {type_} cursor",
                    hint="Use a duration (2h, 1d) for time cursors and a number for numbers.",
                )
            step = pa.scalar(lookback) if isinstance(lookback, timedelta) else lookback
            moved = pc.subtract(last, step)
            self.lower = moved.cast(type_) if moved.type != type_ else moved
            self.inclusive = True
        elif self.spec.initial_value is not None:
            self.lower = _scalar(self.spec.initial_value, type_, what="initial_value")
            self.inclusive = True

    def _batches(
        self, reader: pa.RecordBatchReader, index: int, upper: pa.Scalar | None
    ) -> Iterator[pa.RecordBatch]:
        for batch in reader:
            values = batch.column(index)
            keep = pc.is_valid(values)
            nulls = len(values) - pc.sum(keep.cast(pa.int64())).as_py() if len(values) else 0
            if self.lower is None:
                keep = pa.array([True] * len(values)) if nulls else keep
                nulls = 0
            else:
                compare = pc.greater_equal if self.inclusive else pc.greater
                after = pc.fill_null(compare(values, self.lower), False)
                self.skipped_behind += int(
                    pc.sum(pc.and_(keep, pc.invert(after)).cast(pa.int64())).as_py() or 0
                )
                keep = pc.and_(keep, after)
            if upper is not None:
                before = pc.fill_null(pc.less(values, upper), True)
                self.skipped_ahead += int(
                    pc.sum(pc.and_(keep, pc.invert(before)).cast(pa.int64())).as_py() or 0
                )
                keep = pc.and_(keep, before)
            self.skipped_null += nulls
            kept = batch.filter(keep)
            if kept.num_rows and self.periods is not None:
                self.periods.add_values(kept.column(index))
            if kept.num_rows:
                top = pc.max(kept.column(index))
                if top.is_valid and (self.highest is None or pc.greater(top, self.highest).as_py()):
                    self.highest = top
            yield kept

    def value(self) -> Any:
        """The largest cursor value loaded (or the stored one), as JSON-ready data."""
        if self.highest is None or not self.highest.is_valid:
            return None
        return _plain(self.highest.as_py())

    def state(self) -> str | None:
        """What to remember: the cursor's column and value, as JSON text (a backfill leaves
        the live cursor alone: nothing)."""
        value = self.value()
        if value is None or self.window is not None:
            return None
        return json.dumps({"column": self.column, "value": value})

    def notes(self) -> tuple[str, ...]:
        """What the run report says about the cursor."""
        out = []
        shown = self.value()
        if self.window is not None:
            out.append(
                f"backfill of {self.column} in [{self.window[0]}, {self.window[1]}); the live "
                "cursor did not move"
            )
        elif shown is not None:
            out.append(f"cursor {self.column} now at {shown}")
        if self.skipped_behind:
            out.append(f"{self.skipped_behind:,} row(s) at or behind the cursor skipped")
        if self.skipped_ahead:
            bound = "--to" if self.window is not None else "end_value"
            out.append(f"{self.skipped_ahead:,} row(s) at or past {bound} skipped")
        if self.skipped_null:
            out.append(f"{self.skipped_null:,} row(s) without a {self.column} skipped")
        return tuple(out)


@dataclass
class Tracking:
    """What an incremental load keeps track of: its cursor, the files it read, or both."""

    cursor: Cursor | None = None
    files: FileTracker | None = None

    def remember(self, load: Load) -> None:
        """Hand the new state to the load, to commit with its rows."""
        if self.cursor is not None and (value := self.cursor.state()) is not None:
            load.remember(CURSOR_STATE, value)
        cursor = self.cursor
        if cursor is not None and cursor.periods is not None:
            if cursor.window is not None and cursor.lower is not None and cursor.upper is not None:
                cursor.periods.add_window(cursor.lower.as_py(), cursor.upper.as_py())
            if (kept := cursor.periods.state()) is not None:
                load.remember(PERIODS_STATE, kept)
        if self.files is not None and (known := self.files.state()) is not None:
            load.remember(FILES_STATE, known)

    def notes(self) -> tuple[str, ...]:
        files = self.files.notes() if self.files is not None else ()
        return files + (self.cursor.notes() if self.cursor is not None else ())

"""A source's ``incremental:``: read only rows past the last committed cursor value.

incremental:
  files: true                 # file sources: only files no load read yet (changed: reload)
  cursor: updated_at          # a timestamp, date or increasing number column
  initial_value: "2024-01-01" # where the first run starts (default: everything)
  end_value: "2024-07-01"     # rows at or past it are not read (default: no end)
  lookback: 2h                # re-read this far behind the cursor, for late rows
  interval: day               # time cursors: track processed days (hour, month) for gaps

The cursor's value after a load is the largest value it loaded, kept in the warehouse's
``_sluiceway.state`` and committed in the same transaction as the rows, so a crash never
moves it without the data. ``lookback`` re-reads rows the previous load may already hold; it
needs ``write: merge`` (the primary key folds them into the rows they repeat), so it never
creates duplicates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sluiceway.core.durations import parse_duration
from sluiceway.spec.models_base import StrictModel


class IncrementalSpec(StrictModel):
    """Cursor-based incremental loading of one source."""

    cursor: str | None = Field(
        None,
        min_length=1,
        description="The column whose largest loaded value is remembered: a timestamp, a date "
        "or a number that only grows.",
    )
    files: bool = Field(
        False,
        description="File sources: read only files no earlier load read (tracked by path, "
        "size, modification time and SHA-256 of the bytes).",
    )
    changed: Literal["reload", "skip", "fail"] = Field(
        "reload",
        description="With `files`: a file read before whose bytes changed is read again "
        "(`reload`), left alone (`skip`), or stops the load (`fail`).",
    )
    initial_value: Any = Field(
        None,
        description="The first run reads rows with the cursor at or past this value "
        "(default: every row).",
    )
    end_value: Any = Field(
        None, description="Rows with the cursor at or past this value are not read."
    )
    lookback: str | int | float | None = Field(
        None,
        description="Re-read rows this far behind the cursor to absorb late arrivals: a "
        "duration (`2h`, `1d`) for time cursors, a number for numeric ones. Needs "
        "`write: merge`.",
    )

    interval: Literal["hour", "day", "month"] = Field(
        "day",
        description="Time cursors: the periods whose processing is tracked, so that "
        "`sluiceway state gaps` lists periods never loaded and `sluiceway backfill` can fill "
        "them.",
    )

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, value: str | float | None) -> str | float | None:
        if isinstance(value, str):
            parse_duration(value)
        elif value is not None and value < 0:
            raise ValueError(f"lookback must not be negative, got {value}")
        return value

    @model_validator(mode="after")
    def _something_to_track(self) -> IncrementalSpec:
        if self.cursor is None and not self.files:
            raise ValueError("incremental needs a `cursor` column, `files: true`, or both")
        if self.cursor is None and (
            self.lookback is not None or self.initial_value is not None or self.end_value
        ):
            raise ValueError("`initial_value`, `end_value` and `lookback` need a `cursor`")
        return self

    def lookback_delta(self) -> timedelta | float | None:
        """The lookback as a timedelta (durations) or a number."""
        if isinstance(self.lookback, str):
            return parse_duration(self.lookback)
        return self.lookback

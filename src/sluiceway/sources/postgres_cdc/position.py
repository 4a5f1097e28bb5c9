"""Where a ``postgres_cdc`` source stands: the LSN its last load committed, against its slot.

Two positions exist, and they must agree. The warehouse keeps the end of the last loaded
transaction in ``_sluiceway.state``, committed with the rows; the server keeps the slot's
confirmed position, moved only *after* that commit. The warehouse is the truth:

- slot behind the stored position: the last run committed and stopped before it confirmed.
  Confirm the slot up to the stored position; what lies before it is already loaded.
- slot ahead of it: something else moved the slot (advanced it, dropped and recreated it, or
  another pipeline reads it), or the stored position was set back by hand. The changes in
  between are gone from the log: refuse, and say how to start over with a fresh snapshot.
- no stored position: the first run, which snapshots the table instead of reading changes.

The state is stored under the name ``cursor``, as a JSON object whose ``value`` is the LSN, so
``sluiceway state show`` prints it and ``sluiceway state reset --source S`` forgets it (the
next run takes a new snapshot) or, with ``--to 0/16B3748``, moves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg

from sluiceway.cdc import confirm, format_lsn, parse_lsn
from sluiceway.core.errors import ConfigError, SourceError

STATE = "cursor"  # the name `sluiceway state show|reset` knows


@dataclass(frozen=True, slots=True)
class Position:
    """The end of the last transaction a load holds, and the slot it was read from."""

    lsn: int
    slot: str | None

    @property
    def text(self) -> str:
        return format_lsn(self.lsn)

    def to_state(self) -> str:
        """The JSON text kept in ``_sluiceway.state``."""
        return json.dumps({"value": self.text, "slot": self.slot})

    @classmethod
    def from_state(cls, text: str | None, *, source: str) -> Position | None:
        """The stored position, ``None`` before the first load (or after a reset)."""
        if text is None:
            return None
        try:
            data: Any = json.loads(text)
            value = data["value"] if isinstance(data, dict) else None
            if value is None:
                return None
            slot = data.get("slot")
            return cls(parse_lsn(str(value)), str(slot) if slot is not None else None)
        except (ValueError, KeyError, ConfigError) as exc:
            raise SourceError(
                f"source {source!r}: the stored position {text!r} is not an LSN",
                hint=f"Set it to one (sluiceway state reset --source {source} --to 0/16B3748) "
                "or forget it to load the table afresh (sluiceway state reset --source "
                f"{source}).",
            ) from exc


def catch_up(
    conn: psycopg.Connection[Any], slot: str, stored: Position, confirmed: int, *, source: str
) -> str | None:
    """Bring the slot to the stored position, or refuse; returns a note when it moved."""
    if confirmed == stored.lsn:
        return None
    if confirmed < stored.lsn:
        moved = confirm(conn, slot, stored.lsn)
        if moved < stored.lsn:  # the server caps an advance at the end of its log
            raise SourceError(
                f"the position the last load of source {source!r} stored, LSN {stored.text}, "
                f"is past the end of the server's log (LSN {format_lsn(moved)}): the state "
                "was written against another server, or this one was restored from a backup",
                hint=f"Forget the position (sluiceway state reset --source {source}): the next "
                "run loads the table afresh from a new snapshot.",
            )
        return (
            f"slot {slot} was confirmed only up to LSN {format_lsn(confirmed)} (the last run "
            f"stopped after its commit): moved to the loaded position {stored.text}"
        )
    other = f" (the position was read from slot {stored.slot!r})" if stored.slot != slot else ""
    raise SourceError(
        f"replication slot {slot!r} is confirmed up to LSN {format_lsn(confirmed)}, past LSN "
        f"{stored.text} where the last load of source {source!r} ended{other}: the changes in "
        "between were never loaded and are gone from the log",
        hint="Something else moved the slot (advanced, dropped and recreated it, or another "
        f"consumer reads it). Give each source a slot of its own, then forget the position "
        f"(sluiceway state reset --source {source}): the next run loads the table afresh "
        "from a new snapshot.",
    )

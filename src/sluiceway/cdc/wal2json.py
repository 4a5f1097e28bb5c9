"""wal2json format-version 2 output, read into whole source transactions.

Each row that ``pg_logical_slot_peek_changes`` returns is ``(lsn, data)`` where ``data`` is one
JSON object: ``{"action": "B"}`` opens a transaction, ``"I"``/``"U"``/``"D"`` carry a row change,
``"T"`` a truncate, ``"M"`` a logical message (ignored) and ``"C"`` closes the transaction. For
the commit row, ``lsn`` is the end of the commit record: the position a slot must be confirmed at
for the transaction never to be decoded again.

Only transactions whose commit was seen are returned. PostgreSQL already stops the SQL interface
at a commit boundary; dropping a trailing, unclosed transaction is a second guard, so a batch can
never hold half a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sluiceway.cdc.pg_lsn import parse_lsn
from sluiceway.core.errors import SourceError

ROW_ACTIONS = frozenset({"I", "U", "D", "T"})


@dataclass(frozen=True, slots=True)
class Change:
    """One decoded change: an insert, update, delete (``I``/``U``/``D``) or truncate (``T``)."""

    action: str
    schema: str
    table: str
    columns: dict[str, Any] = field(default_factory=dict)  # the new row (I, U)
    identity: dict[str, Any] = field(default_factory=dict)  # the old key or old row (U, D)
    types: dict[str, str] = field(default_factory=dict)  # column → type name, as written


@dataclass(frozen=True, slots=True)
class Transaction:
    """A committed source transaction and its changes, in the order they were made."""

    end_lsn: int  # confirm the slot here and the transaction is never decoded again
    commit_ts: datetime | None
    changes: tuple[Change, ...]


def _values(items: list[dict[str, Any]] | None, types: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items or ():
        name = str(item["name"])
        values[name] = item.get("value")
        if "type" in item:
            types.setdefault(name, str(item["type"]))
    return values


def _commit_ts(message: dict[str, Any]) -> datetime | None:
    text = message.get("timestamp")
    if not isinstance(text, str):
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _change(message: dict[str, Any]) -> Change:
    types: dict[str, str] = {}
    columns = _values(message.get("columns"), types)
    identity = _values(message.get("identity"), types)
    return Change(
        action=str(message["action"]),
        schema=str(message["schema"]),
        table=str(message["table"]),
        columns=columns,
        identity=identity,
        types=types,
    )


def parse_transactions(rows: Iterable[tuple[str, str]]) -> list[Transaction]:
    """Group wal2json rows ``(lsn, data)`` into the complete transactions among them.

    Numbers are parsed as ``Decimal`` so a ``numeric`` value keeps every digit.
    """
    transactions: list[Transaction] = []
    changes: list[Change] | None = None
    for lsn, data in rows:
        try:
            message = json.loads(data, parse_float=Decimal)
            action = message["action"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(
                f"wal2json wrote a change Sluiceway cannot read at LSN {lsn}: {data[:200]!r}",
                hint="The slot must use wal2json with format-version 2.",
            ) from exc
        if action == "B":
            changes = []
        elif action == "M":
            continue
        elif action not in ROW_ACTIONS and action != "C":
            raise SourceError(
                f"wal2json wrote an action Sluiceway does not know ({action!r}) at LSN {lsn}",
                hint="Report it with the wal2json version installed on the server.",
            )
        elif changes is None:
            raise SourceError(
                f"wal2json wrote {action!r} outside a transaction at LSN {lsn}",
                hint="The slot must be read with include-transaction on (Sluiceway sets it).",
            )
        elif action == "C":
            transactions.append(Transaction(parse_lsn(lsn), _commit_ts(message), tuple(changes)))
            changes = None
        else:
            changes.append(_change(message))
    return transactions

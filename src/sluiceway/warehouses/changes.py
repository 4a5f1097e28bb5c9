"""The parts of a keyed load that go beyond "the last row per key wins", in DuckDB-dialect SQL
that every warehouse runs through its compile step (``sluiceway.core.sql_compile``).

All of it runs inside the load's transaction, on its staging tables:

- **truncate**: a change-data ``truncate`` empties the table (soft: marks every row deleted;
  scd2: closes every current version); staged changes before it no longer apply;
- **unchanged columns**: a change that did not carry a column (PostgreSQL's unchanged TOAST
  values) takes the table's value for it instead of writing its NULL;
- **deletions**: staged rows marked deleted (a flag column, a CDC ``delete``) remove their key's
  row (``hard``) or set its ``deleted_at`` (``soft``), and are not loaded themselves;
- **snapshots**: with ``cdc: snapshot`` the staged rows are the whole source, so a key the table
  has and the snapshot lacks was deleted;
- **partitions**: ``insert_overwrite`` deletes the table's rows in every partition the staged
  rows fall in, before they are inserted.

Statements are text here (window clauses and ``UPDATE … FROM`` read better so); every
identifier is quoted, every value bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlglot import exp

from sluiceway.core.errors import ConfigError, DataError, Location
from sluiceway.core.names import RESERVED_PREFIX, UNCHANGED_COLUMN
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.warehouses.base import LoadRequest

Count = Callable[[str, dict[str, Any]], int]
SEQ_COLUMN = "__sluiceway_seq"
DELETED_HASH = "(deleted)"


def literal(text: str) -> str:
    """A string literal (for names compared as data, never user values)."""
    return str(exp.Literal.string(text).sql("duckdb"))


def key_match(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in keys)


class Changes:
    """Deletions, truncates, unchanged columns, snapshots and partitions of one load."""

    def __init__(self, count: Count, request: LoadRequest, *, target: str, now: datetime) -> None:
        self.count = count
        self.request = request
        self.target = target  # the target table, as SQL
        self.now = now
        self.keys = request.primary_key
        delete = request.delete
        self.soft = delete is not None and delete.mode == "soft"

    # -- which rows are deletions ----------------------------------------------------------

    def marker(self, alias: str) -> tuple[str, dict[str, Any]] | None:
        """The condition "this staged row is a deletion", or None when nothing marks them."""
        delete = self.request.delete
        if delete is None or delete.column is None:
            return None
        column = f"{alias}.{q(delete.column)}"
        if delete.values is None:
            return f"coalesce(CAST({column} AS BOOLEAN), false)", {}
        params = {f"dv{i}": _text(v) for i, v in enumerate(delete.values)}
        listed = ", ".join(f"${name}" for name in params)
        return f"coalesce(CAST({column} AS VARCHAR) IN ({listed}), false)", params

    def check_columns(self, columns: Sequence[str]) -> None:
        """The columns the options name are in the staged rows."""
        delete, wanted = self.request.delete, []
        if delete is not None:
            wanted += [c for c in (delete.column, delete.at) if c is not None]
        missing = [c for c in wanted if c.lower() not in {n.lower() for n in columns}]
        if missing:
            raise ConfigError(
                f"source {self.request.source!r}: `delete` names "
                f"{', '.join(map(repr, missing))}, which the rows do not have",
                hint=f"Columns: {', '.join(columns)}",
            )

    # -- truncate --------------------------------------------------------------------------

    def truncate(self, staging: str, *, exists: bool, close: tuple[str, str] | None) -> int:
        """Apply the last staged ``truncate``: drop the staged changes before it and empty the
        table (soft: mark every live row; ``close`` = scd2's (valid_to, is_current): close
        every current version). Returns the table rows it removed, marked or closed."""
        delete, value = self.request.delete, self.request.truncate
        if delete is None or delete.column is None or value is None:
            return 0
        column = q(delete.column)
        seq = q(SEQ_COLUMN)
        last = self.count(
            f"SELECT coalesce(max({seq}) + 1, 0) FROM {staging} "
            f"WHERE CAST({column} AS VARCHAR) = $value",
            {"value": value},
        )
        if not last:
            return 0
        self.count(f"DELETE FROM {staging} WHERE {seq} < $last", {"last": last})
        if not exists:
            return 0
        if close is not None:
            valid_to, current = q(close[0]), q(close[1])
            return self.count(
                f"UPDATE {self.target} SET {valid_to} = $now, {current} = false WHERE {current}",
                {"now": self.now},
            )
        if self.soft:
            self.ensure_deleted_at()
            deleted_at = q(self._deleted_at())
            return self.count(
                f"UPDATE {self.target} SET {deleted_at} = $now WHERE {deleted_at} IS NULL",
                {"now": self.now},
            )
        return self.count(f"DELETE FROM {self.target}", {})

    # -- unchanged columns ----------------------------------------------------------------

    def fill_unchanged(
        self, rows: str, columns: Sequence[str], *, current: str | None = None
    ) -> None:
        """Rows naming columns in ``_sluiceway_unchanged`` take the table's values for them
        (``current``: scd2's is_current column, to read the current version)."""
        if UNCHANGED_COLUMN not in columns:
            return
        keys = {k.lower() for k in self.keys}
        data = [c for c in columns if c.lower() not in keys and not _reserved(c)]
        if not data:
            return
        listed = q(UNCHANGED_COLUMN)
        sets = ", ".join(
            f"{q(c)} = CASE WHEN list_contains(s.{listed}, {literal(c)}) THEN t.{q(c)} "
            f"ELSE s.{q(c)} END"
            for c in data
        )
        only_current = f" AND t.{q(current)}" if current is not None else ""
        self.count(
            f"UPDATE {rows} AS s SET {sets} FROM {self.target} AS t "
            f"WHERE {key_match(self.keys, 's', 't')} AND len(s.{listed}) > 0{only_current}",
            {},
        )

    # -- deletions (merge) ----------------------------------------------------------------

    def ensure_deleted_at(self) -> None:
        """A soft delete's timestamp column exists in the table."""
        if self.soft:
            self.count(
                f"ALTER TABLE {self.target} ADD COLUMN IF NOT EXISTS {q(self._deleted_at())} "
                "TIMESTAMPTZ",
                {},
            )

    def live(self, alias: str) -> str:
        """The condition "this table row is not soft-deleted" (TRUE without soft deletes)."""
        return f"{alias}.{q(self._deleted_at())} IS NULL" if self.soft else "TRUE"

    def apply_deletes(self, latest: str, *, exists: bool) -> tuple[int, int]:
        """Deletion rows among the merge's last-per-key rows: applied to the table, then taken
        out of the rows to load. Returns (deletion rows, table rows deleted or marked)."""
        found = self.marker("s")
        if found is None:
            return 0, 0
        condition, params = found
        marks = self.count(f"SELECT count(*) FROM {latest} AS s WHERE {condition}", params)
        if not marks:
            return 0, 0
        deleted = 0
        match = key_match(self.keys, "s", "t")
        if exists and self.soft:
            delete = self.request.delete
            assert delete is not None
            assert delete.column is not None
            at = f"coalesce(s.{q(delete.at)}, $now)" if delete.at else "$now"
            deleted = self.count(
                f"UPDATE {self.target} AS t SET {q(self._deleted_at())} = {at}, "
                f"{q(delete.column)} = s.{q(delete.column)} FROM {latest} AS s "
                f"WHERE {match} AND {condition} AND {self.live('t')}",
                {**params, "now": self.now},
            )
        elif exists:
            deleted = self.count(
                f"DELETE FROM {self.target} AS t WHERE EXISTS "
                f"(SELECT 1 FROM {latest} AS s WHERE {match} AND {condition})",
                params,
            )
        self.count(f"DELETE FROM {latest} AS s WHERE {condition}", params)
        return marks, deleted

    def delete_missing(self, latest: str, *, exists: bool) -> int:
        """``cdc: snapshot``: table rows whose key is not in the snapshot are deleted (soft:
        marked). An empty snapshot of a non-empty table is refused: it is far likelier a broken
        source than a table emptied on purpose."""
        if not self.request.snapshot or not exists:
            return 0
        self.guard_empty_snapshot(latest, live=self.live("t"))
        match = key_match(self.keys, "s", "t")
        absent = f"NOT EXISTS (SELECT 1 FROM {latest} AS s WHERE {match})"
        if self.soft:
            return self.count(
                f"UPDATE {self.target} AS t SET {q(self._deleted_at())} = $now "
                f"WHERE {self.live('t')} AND {absent}",
                {"now": self.now},
            )
        return self.count(f"DELETE FROM {self.target} AS t WHERE {absent}", {})

    def guard_empty_snapshot(self, rows: str, *, live: str) -> None:
        staged = self.count(f"SELECT count(*) FROM {rows}", {})
        if staged:
            return
        held = self.count(f"SELECT count(*) FROM {self.target} AS t WHERE {live}", {})
        if held:
            raise DataError(
                f"the snapshot read for {self.request.table} is empty, and `cdc: snapshot` "
                f"would delete all {held:,} row(s) of the table; nothing was changed",
                location=Location(table=str(self.request.table)),
                hint="If the source really is empty now, load it once with `write: replace`.",
            )

    # -- partitions (insert_overwrite) ---------------------------------------------------

    def overwrite_partitions(self, staging: str, types: dict[str, str]) -> tuple[int, int]:
        """Delete the table's rows in every partition the staged rows fall in. Returns
        (partitions, rows deleted)."""
        partition = self.request.partition
        assert partition is not None
        found = {k.lower(): (k, v) for k, v in types.items()}
        if partition.column.lower() not in found:
            raise ConfigError(
                f"source {self.request.source!r}: the partition column {partition.column!r} "
                "is not in the rows",
                hint=f"Columns: {', '.join(types)}",
            )
        name, type_ = found[partition.column.lower()]
        granularity = partition.granularity or ("day" if "TIMESTAMP" in type_ else "value")
        if granularity != "value" and not any(t in type_ for t in ("DATE", "TIMESTAMP")):
            raise ConfigError(
                f"source {self.request.source!r}: partition granularity {granularity!r} needs a "
                f"date or timestamp column, and {name!r} is {type_}",
                hint="Use `granularity: value`, or declare the column's type under `columns:`.",
            )

        def part(alias: str) -> str:
            column = f"{alias}.{q(name)}"
            if granularity == "value":
                return column
            if granularity == "day":
                return f"CAST({column} AS DATE)"
            return f"CAST(date_trunc({literal(granularity)}, {column}) AS DATE)"

        partitions = self.count(
            f"SELECT count(DISTINCT {part('s')}) + max(CASE WHEN {part('s')} IS NULL "
            f"THEN 1 ELSE 0 END) FROM {staging} AS s",
            {},
        )
        deleted = self.count(
            f"DELETE FROM {self.target} AS t WHERE {part('t')} IN "
            f"(SELECT DISTINCT {part('s')} FROM {staging} AS s) OR ({part('t')} IS NULL AND "
            f"EXISTS (SELECT 1 FROM {staging} AS s WHERE {part('s')} IS NULL))",
            {},
        )
        return partitions, deleted

    def clear_window(self) -> int:
        """An append replacing a window (a backfill): delete the table's rows in it first."""
        window = self.request.window
        if window is None:
            return 0
        column, start, end = window
        return self.count(
            f"DELETE FROM {self.target} WHERE {q(column)} >= $start AND {q(column)} < $end",
            {"start": start, "end": end},
        )

    def _deleted_at(self) -> str:
        delete = self.request.delete
        assert delete is not None
        return delete.deleted_at


def _reserved(column: str) -> bool:
    return column.lower().startswith(RESERVED_PREFIX) or column == SEQ_COLUMN


def _text(value: str | int | bool) -> str:
    """A deletion value as DuckDB casts the column's value to text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

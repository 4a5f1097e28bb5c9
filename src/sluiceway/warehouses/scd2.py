"""SCD type 2 in DuckDB: every version of every key, with its validity interval.

A load rebuilds the history of the keys it touches, in SQL, inside its transaction:

1. the staged rows, one per (key, change time) — the last to arrive wins — are the incoming
   versions; deletion rows are incoming *tombstones*;
2. the table's versions of those keys come in as they are, plus a tombstone wherever a version
   was closed with no successor (the key was deleted then);
3. incoming and existing entries go on one timeline per key, ordered by change time; at equal
   times the incoming one wins (a correction), unless it is the very same version;
4. an entry equal to the one before it (same row hash) is no change and folds into it; a
   tombstone before any version is nothing;
5. each version is valid until the next entry: ``valid_to`` is the next entry's time (NULL for
   the last), ``is_current`` says it is NULL.

Then the table changes only where the rebuilt history differs: versions whose ``valid_to``
moved are updated, versions folded away are deleted, new versions are inserted. So a late
older change slides into its place (the version before it is closed at its time, it is closed
at the next version's time, the current version stays current), and loading the same batch
again changes nothing.

The row hash is an MD5 over the data columns (not ``_sluiceway_*`` bookkeeping, not the change
time) as JSON, computed on both sides at load time, so a column added later does not make
every stored version look different.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sluiceway.core.errors import ConfigError
from sluiceway.core.sql_quoting import quote_identifier as q
from sluiceway.spec.write import Scd2Spec
from sluiceway.warehouses.changes import (
    DELETED_HASH,
    SEQ_COLUMN,
    Changes,
    _reserved,
    key_match,
    literal,
)

Columns = Callable[[str], list[str]]  # a staging table's (by name) or the target's columns


@dataclass(frozen=True, slots=True)
class Scd2Counts:
    inserted: int  # new versions
    closed: int  # existing versions whose valid_to changed
    deleted: int  # incoming tombstones that closed a version
    marks: int  # staged deletion rows
    merged: int  # staged rows folded into a later row of the same key and time
    unchanged: int  # incoming versions equal to the version before them


class Scd2:
    """One scd2 load: ``apply`` rebuilds the touched keys' history."""

    def __init__(
        self,
        changes: Changes,
        spec: Scd2Spec,
        *,
        table: Callable[[str], str],
        columns: Columns,
    ) -> None:
        self.changes = changes
        self.count = changes.count
        self.spec = spec
        self.keys = changes.keys
        self.table = table  # a staging table's SQL name from a suffix
        self.columns = columns
        self.vf, self.vt, self.current, self.hash = (q(c) for c in spec.columns())

    def apply(self, staging: str, types: dict[str, str], *, exists: bool) -> Scd2Counts:
        """``types``: the staged columns (not the sequence) and their SQL types. Returns what
        changed."""
        managed = {c.lower() for c in self.spec.columns()}
        data = [c for c in types if c.lower() not in managed]
        self._check(data, exists=exists)
        target = self.changes.target
        staged = self.count(f"SELECT count(*) FROM {staging}", {})
        incoming = self.table("inc")
        marks, versions = self._incoming(staging, incoming, types, exists=exists)
        merged = staged - self.count(f"SELECT count(*) FROM {incoming}", {})
        if not exists:
            listed = ", ".join(q(c) for c in data)
            self.count(
                f"CREATE TABLE {target} AS SELECT {listed}, __vf AS {self.vf}, "
                f"__vf AS {self.vt}, true AS {self.current}, __hash AS {self.hash} "
                f"FROM {incoming} LIMIT 0",
                {},
            )
        elif self.changes.request.snapshot:
            self._missing_keys(incoming)
        existing = self.table("old")
        hashed = self._hash([c for c in self.columns("target") if c.lower() not in managed])
        match = key_match(self.keys, "s", "t")
        self.count(
            f"CREATE TABLE {existing} AS SELECT t.*, {hashed('t')} AS __hash FROM {target} AS t "
            f"WHERE EXISTS (SELECT 1 FROM {incoming} AS s WHERE {match})",
            {},
        )
        self._drop_repeats(incoming, existing)
        timeline = self.table("tl")
        self._timeline(incoming, existing, timeline)
        counts = self._write(timeline, existing, data)
        for table in (incoming, existing, timeline):
            self.count(f"DROP TABLE {table}", {})
        return Scd2Counts(
            inserted=counts[0],
            closed=counts[1],
            deleted=counts[2],
            marks=marks,
            merged=merged,
            unchanged=versions - counts[0],
        )

    def _check(self, data: Sequence[str], *, exists: bool) -> None:
        names = {c.lower() for c in data}
        changed_at = self.spec.changed_at
        if changed_at is not None and changed_at.lower() not in names:
            raise ConfigError(
                f"source {self.changes.request.source!r}: `scd2.changed_at` names "
                f"{changed_at!r}, which the rows do not have",
                hint=f"Columns: {', '.join(data)}",
            )
        if exists:
            held = {c.lower() for c in self.columns("target")}
            missing = [c for c in self.spec.columns() if c.lower() not in held]
            if missing:
                raise ConfigError(
                    f"{self.changes.request.table} exists without the scd2 column(s) "
                    f"{', '.join(missing)}; it was not loaded with `write: scd2`",
                    hint="Load the history into a new table (set `table:`), or rename the "
                    "columns under `scd2:` to the ones the table has.",
                )

    def _hash(self, columns: Sequence[str]) -> Callable[[str], str]:
        """The row hash over the data columns, for a table alias."""
        changed_at = (self.spec.changed_at or "").lower()
        hashed = [c for c in columns if not _reserved(c) and c.lower() != changed_at]

        def expression(alias: str) -> str:
            fields = ", ".join(f"{q(c)} := {alias}.{q(c)}" for c in hashed)
            return f"md5(CAST(to_json(struct_pack({fields})) AS VARCHAR))"

        return expression

    def _incoming(
        self, staging: str, incoming: str, types: dict[str, str], *, exists: bool
    ) -> tuple[int, int]:
        """One row per (key, change time), the last to arrive; returns (deletion rows,
        versions)."""
        data = list(types)
        changed_at = self.spec.changed_at
        when = "$now"
        if changed_at is not None:
            type_ = next(t for c, t in types.items() if c.lower() == changed_at.lower())
            when = f"coalesce(s.{q(changed_at)}, CAST($now AS {type_}))"
        marker = self.changes.marker("s")
        deletion, params = marker if marker is not None else ("false", {})
        keys = ", ".join(f"s.{q(k)}" for k in self.keys)
        listed = ", ".join(f"s.{q(c)}" for c in data)
        first = self.table("inc0")
        self.count(
            f"CREATE TABLE {first} AS SELECT {listed}, {when} AS __vf, {deletion} AS __del "
            f"FROM {staging} AS s QUALIFY row_number() OVER (PARTITION BY {keys}, {when} "
            f"ORDER BY s.{q(SEQ_COLUMN)} DESC) = 1",
            {**params, "now": self.changes.now},
        )
        if exists:
            self.changes.fill_unchanged(first, data, current=self.spec.is_current)
        hashed = self._hash(data)
        self.count(
            f"CREATE TABLE {incoming} AS SELECT s.*, CASE WHEN s.__del THEN "
            f"{literal(DELETED_HASH)} ELSE {hashed('s')} END AS __hash FROM {first} AS s",
            {},
        )
        self.count(f"DROP TABLE {first}", {})
        marks = self.count(f"SELECT count(*) FROM {incoming} WHERE __del", {})
        return marks, self.count(f"SELECT count(*) FROM {incoming} WHERE NOT __del", {})

    def _missing_keys(self, incoming: str) -> None:
        """``cdc: snapshot``: current keys the snapshot lacks get a tombstone now."""
        target = self.changes.target
        self.changes.guard_empty_snapshot(incoming, live=f"t.{self.current}")
        keys = ", ".join(f"t.{q(k)}" for k in self.keys)
        names = ", ".join([*(q(k) for k in self.keys), "__vf", "__del", "__hash"])
        self.count(
            f"INSERT INTO {incoming} ({names}) SELECT {keys}, $now AS __vf, "
            f"true AS __del, {literal(DELETED_HASH)} AS __hash FROM {target} AS t "
            f"WHERE t.{self.current} AND NOT EXISTS (SELECT 1 FROM {incoming} AS s "
            f"WHERE {key_match(self.keys, 's', 't')})",
            {"now": self.changes.now},
        )

    def _drop_repeats(self, incoming: str, existing: str) -> None:
        """Incoming entries the table holds already: the same version at the same time, or a
        tombstone where a version already ends without a successor."""
        match = key_match(self.keys, "o", "s")
        self.count(
            f"DELETE FROM {incoming} AS s WHERE EXISTS (SELECT 1 FROM {existing} AS o "
            f"WHERE {match} AND o.{self.vf} = s.__vf AND o.__hash = s.__hash)",
            {},
        )
        self.count(
            f"DELETE FROM {incoming} AS s WHERE s.__del AND EXISTS (SELECT 1 FROM {existing} "
            f"AS o WHERE {match} AND o.{self.vt} = s.__vf)",
            {},
        )

    def _timeline(self, incoming: str, existing: str, timeline: str) -> None:
        managed = {c.lower() for c in self.spec.columns()}
        helpers = ("__vf", "__del", "__hash")
        kept = [c for c in self.columns("old") if c.lower() not in managed and c != "__hash"]
        arriving = [c for c in self.columns("inc") if c not in helpers]
        names = list(dict.fromkeys([*kept, *arriving]))
        key_names = set(self.keys)

        def pick(alias: str, held: Sequence[str]) -> str:
            # Branches of the union list the same columns in the same order (no BY NAME, which
            # only DuckDB has): a column a branch lacks is NULL there.
            return ", ".join(f"{alias}.{q(c)}" if c in held else f"NULL AS {q(c)}" for c in names)

        keys = ", ".join(q(k) for k in self.keys)
        successor = key_match(self.keys, "n", "o")
        self.count(
            f"""CREATE TABLE {timeline} AS
            WITH entries AS (
                SELECT {pick("o", kept)}, o.{self.vf} AS __vf, false AS __del, o.__hash,
                       0 AS __src FROM {existing} AS o
                UNION ALL
                SELECT {pick("o", [c for c in kept if c in key_names])}, o.{self.vt} AS __vf,
                       true AS __del, {literal(DELETED_HASH)} AS __hash, 0 AS __src
                FROM {existing} AS o WHERE o.{self.vt} IS NOT NULL AND NOT EXISTS
                    (SELECT 1 FROM {existing} AS n WHERE {successor} AND n.{self.vf} = o.{self.vt})
                UNION ALL
                SELECT {pick("s", arriving)}, s.__vf, s.__del, s.__hash, 1 AS __src
                FROM {incoming} AS s
            ), one AS (
                SELECT * FROM entries
                QUALIFY row_number() OVER (PARTITION BY {keys}, __vf ORDER BY __src DESC) = 1
            ), marked AS (
                SELECT *, lag(__hash) OVER (PARTITION BY {keys} ORDER BY __vf) AS __prev FROM one
            ), kept AS (
                SELECT * FROM marked
                WHERE __hash IS DISTINCT FROM __prev AND NOT (__del AND __prev IS NULL)
            )
            SELECT *, lead(__vf) OVER (PARTITION BY {keys} ORDER BY __vf) AS __vt FROM kept""",
            {},
        )

    def _write(self, timeline: str, existing: str, data: Sequence[str]) -> tuple[int, int, int]:
        """Make the table match the rebuilt history: (inserted, closed, deleted). Versions folded
        into an earlier equal one, or corrected at their time, are deleted first."""
        target = self.changes.target
        match = key_match(self.keys, "v", "t")
        self.count(
            f"DELETE FROM {target} AS t WHERE EXISTS (SELECT 1 FROM {existing} AS o "
            f"WHERE {key_match(self.keys, 'o', 't')} AND o.{self.vf} = t.{self.vf}) "
            f"AND NOT EXISTS (SELECT 1 FROM {timeline} AS v WHERE {match} AND v.__src = 0 "
            f"AND NOT v.__del AND v.__vf = t.{self.vf})",
            {},
        )
        closed = self.count(
            f"UPDATE {target} AS t SET {self.vt} = v.__vt, {self.current} = v.__vt IS NULL "
            f"FROM {timeline} AS v WHERE {match} AND v.__src = 0 AND NOT v.__del "
            f"AND v.__vf = t.{self.vf} AND t.{self.vt} IS DISTINCT FROM v.__vt",
            {},
        )
        listed = ", ".join(q(c) for c in data)
        inserted = self.count(
            f"INSERT INTO {target} ({listed}, {self.vf}, {self.vt}, {self.current}, "
            f"{self.hash}) SELECT {listed}, __vf, __vt, __vt IS NULL, __hash FROM {timeline} "
            "WHERE __src = 1 AND NOT __del",
            {},
        )
        deleted = self.count(f"SELECT count(*) FROM {timeline} WHERE __src = 1 AND __del", {})
        return inserted, closed, deleted

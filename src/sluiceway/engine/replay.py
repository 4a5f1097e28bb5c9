"""Replay dead-letter rows: run them again through the current contract, cleaning and rules.

A replay is a run of the pipeline whose sources read from the dead-letter queue instead of
their files or servers. Each source's open rows (those its earlier loads rejected, narrowed by
the filters) become one load, under the pipeline's current settings: rows that now pass are
loaded, rows that still fail go back to the queue as new rows of the replay's load, with their
new reason. The originals are marked ``replayed`` in the same transaction as that load, so a
replay that fails changes nothing, and replaying again never loads a row twice.

Raw rows are JSON objects. Each value is read back as the text it was and converted to the
type of the table column it lands in; a value that does not convert goes back to the queue as
``type_mismatch``, unless the contract declares a ``type`` for the column (then the declared
conversion, with its format, decides). Rows whose raw input is not an object (a line the
source could not parse at all) cannot be replayed: fix the file and run the pipeline again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import duckdb
import pyarrow as pa

from sluiceway.core.names import LOAD_ID_COLUMN, SOURCE_COLUMN
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.core.sql_types import sql_type
from sluiceway.spec.models import SourceSettings

OPEN: Final = "open"
REPLAYED: Final = "replayed"
_ROWS = "dlq_rows"


@dataclass(frozen=True)
class DlqFilter:
    """Which dead-letter rows: every filter given must match; ``None`` matches all."""

    table: str | None = None
    source: str | None = None
    error_class: str | None = None
    rule: str | None = None
    load: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """A SQL condition over ``_sluiceway.dlq`` (DuckDB named parameters) and its values."""
        params = {
            "table": self.table,
            "source": self.source,
            "error_class": self.error_class,
            "rule": self.rule,
            "load": self.load,
        }
        sql = (
            "($table IS NULL OR lower(table_name) = lower($table)) "
            "AND ($source IS NULL OR source = $source) "
            "AND ($error_class IS NULL OR error_class = $error_class) "
            "AND ($rule IS NULL OR rule = $rule) "
            "AND ($load IS NULL OR load_id = $load)"
        )
        return sql, params


# Rows these classes reject were already converted by the contract: their raw values are the
# table's types. The others hold what the source delivered, which the contract converts again.
CONVERTED_CLASSES: Final = frozenset({"rule", "null_primary_key"})


@dataclass(frozen=True)
class DlqRow:
    load_id: str
    seq: int
    raw: str | None


@dataclass
class SourceReplay:
    """One source's open dead-letter rows, and what became of them."""

    source: str
    rows: list[DlqRow]
    unreplayable: list[DlqRow] = field(default_factory=list)
    converted: bool = False  # rows the contract had converted already (see CONVERTED_CLASSES)

    @property
    def refs(self) -> tuple[tuple[str, int], ...]:
        """The rows the replay load consumes (marked ``replayed`` when it commits)."""
        return tuple((r.load_id, r.seq) for r in self.rows)


@dataclass
class ReplayPlan:
    """What a replay will do: per source its rows, and the rows it leaves alone and why."""

    rounds: list[dict[str, SourceReplay]]  # one run each: converted rows, then source rows
    skipped: dict[str, int]  # reason → rows

    @property
    def rows(self) -> int:
        return sum(len(s.rows) for r in self.rounds for s in r.values())

    def per_source(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for found in self.rounds:
            for name, replay in found.items():
                out[name] = out.get(name, 0) + len(replay.rows)
        return out


def open_rows(warehouse: Any, filters: DlqFilter) -> list[dict[str, Any]]:
    """The open dead-letter rows matching ``filters``, oldest first."""
    where, params = filters.where()
    table: pa.Table = warehouse.query(
        "SELECT load_id, seq, pipeline, source, error_class, raw FROM _sluiceway.dlq "
        f"WHERE status = 'open' AND {where} ORDER BY first_seen_at, load_id, seq",
        params,
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def plan_replay(
    rows: Sequence[Mapping[str, Any]], pipeline: str, sources: Sequence[str]
) -> ReplayPlan:
    """Group the rows by source; rows of other pipelines or of sources gone are left alone.

    Rows the contract had converted replay in a first run, typed as the table; rows as the
    source delivered them in a second, through the contract's conversions again.
    """
    grouped: dict[tuple[bool, str], list[DlqRow]] = {}
    skipped: dict[str, int] = {}
    for row in rows:
        if row["pipeline"] != pipeline:
            reason = f"loaded by pipeline {row['pipeline']!r}, not {pipeline!r}"
        elif row["source"] not in sources:
            reason = f"source {row['source']!r} is no longer in the pipeline"
        else:
            converted = row.get("error_class") in CONVERTED_CLASSES
            grouped.setdefault((converted, row["source"]), []).append(
                DlqRow(row["load_id"], int(row["seq"]), row["raw"])
            )
            continue
        skipped[reason] = skipped.get(reason, 0) + 1
    rounds: list[dict[str, SourceReplay]] = [{}, {}]
    for (converted, source), found in grouped.items():
        replay = split_replayable(source, found, converted=converted)
        if replay.unreplayable:
            reason = "the raw input is not a row (a line the source could not parse)"
            skipped[reason] = skipped.get(reason, 0) + len(replay.unreplayable)
        if replay.rows:
            rounds[0 if converted else 1][source] = replay
    return ReplayPlan([r for r in rounds if r], skipped)


def split_replayable(
    source: str, rows: Sequence[DlqRow], *, converted: bool = False
) -> SourceReplay:
    """Rows whose raw input is a JSON object are replayed; the others stay where they are."""
    good: list[DlqRow] = []
    bad: list[DlqRow] = []
    for row in rows:
        try:
            value = json.loads(row.raw) if row.raw is not None else None
        except ValueError:
            value = None
        (good if isinstance(value, dict) else bad).append(row)
    return SourceReplay(source, good, bad, converted)


def _text(value: Any) -> str | None:
    """A JSON value as the text a source would have delivered."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, true/false, lists and objects: their JSON text


def replay_reader(
    replay: SourceReplay,
    settings: SourceSettings,
    table: pa.Schema | None,
    reject: Any,
) -> pa.RecordBatchReader:
    """The replayed rows as one batch typed like the table; misfits go to ``reject``.

    ``reject`` takes a :class:`Reject` (the read context's, so the load stores them).
    """
    objects = [json.loads(r.raw or "{}") for r in replay.rows]
    names: list[str] = []
    seen: set[str] = set()
    for obj in objects:
        for key in obj:
            if key.lower() not in seen and key not in (LOAD_ID_COLUMN, SOURCE_COLUMN):
                seen.add(key.lower())
                names.append(key)
    texts = pa.table(
        {n: pa.array([_text(o.get(n)) for o in objects], pa.string()) for n in names}
        | {"__raw": pa.array([r.raw for r in replay.rows], pa.string())}
    )
    targets = _targets(names, settings, table, converted=replay.converted)
    if not targets:
        plain = texts.drop_columns(["__raw"])
        return pa.RecordBatchReader.from_batches(plain.schema, plain.to_batches())
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register(_ROWS, texts)
        select = []
        misfit = []
        for name in names:
            q = quote_identifier(name)
            target = targets.get(name)
            if target is None:
                select.append(q)
                continue
            select.append(f"TRY_CAST({q} AS {target}) AS {q}")
            misfit.append(
                f"CASE WHEN {q} IS NOT NULL AND TRY_CAST({q} AS {target}) IS NULL "
                f"THEN {_literal(name)} END"
            )
        flag = f"coalesce({', '.join(misfit)}) AS __misfit" if misfit else "NULL AS __misfit"
        typed = con.sql(f"SELECT {', '.join(select)}, {flag}, __raw FROM {_ROWS}").to_arrow_table()
    finally:
        con.close()
    misfits = typed.column("__misfit").to_pylist()
    keep = [m is None for m in misfits]
    for index, column in enumerate(misfits):
        if column is None:
            continue
        value = texts.column(column)[index].as_py()
        reject(
            Reject(
                source=settings.name,
                reason="type_mismatch",
                message=f"{column}: {value!r} cannot be converted to {targets[column]}",
                column=column,
                raw=replay.rows[index].raw,
            )
        )
    good = typed.filter(pa.array(keep)).drop_columns(["__misfit", "__raw"])
    return pa.RecordBatchReader.from_batches(good.schema, good.to_batches())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _targets(
    names: Sequence[str], settings: SourceSettings, table: pa.Schema | None, *, converted: bool
) -> dict[str, str]:
    """Column → the SQL type its text is converted to.

    Source rows keep text where the contract declares a conversion (it converts them again);
    converted rows are typed as the table throughout.
    """
    if table is None:
        return {}
    declared = (
        set()
        if converted
        else {k.lower() for k, c in settings.contract.columns.items() if c.type is not None}
    )
    renames = {k.lower(): v.lower() for k, v in settings.contract.renames.items()}
    types: Mapping[str, pa.DataType] = {f.name.lower(): f.type for f in table}
    out: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if key in declared:
            continue
        found = types.get(renames.get(key, key))
        if found is not None:
            out[name] = sql_type(found)
    return out

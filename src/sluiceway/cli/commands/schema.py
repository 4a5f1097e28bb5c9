"""``sluiceway schema list|show|history|diff|export``: the registered history of tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.table import Table
from rich.text import Text

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import NotFoundError
from sluiceway.core.names import TableRef
from sluiceway.engine.schema_store import MetaSchemaRegistry
from sluiceway.meta.store import MetaStore
from sluiceway.schema.diff import diff
from sluiceway.schema.registry import SchemaVersion


def _versions(state: CliState, table: str, pipeline: str | None) -> list[SchemaVersion]:
    warehouse = state.warehouse(pipeline).describe()
    with MetaStore.for_state_dir(state.state_dir()) as store:
        versions = MetaSchemaRegistry(store).history(warehouse, TableRef.parse(table))
        if not versions:
            known = sorted(t.table_name for t in store.schema_tables(warehouse))
            raise NotFoundError(
                f"no schema is registered for table {table!r} in {warehouse}",
                hint=f"Tables with a schema history: {', '.join(known) or 'none yet'}. "
                "A table gets one when a pipeline loads it.",
            )
    return versions


def _pick(versions: list[SchemaVersion], version: int | None) -> SchemaVersion:
    if version is None:
        return versions[-1]
    for candidate in versions:
        if candidate.version == version:
            return candidate
    raise NotFoundError(
        f"table {versions[-1].table} has no schema version {version}",
        hint=f"Versions: {', '.join(str(v.version) for v in versions)}.",
    )


def list_tables(state: CliState, *, pipeline: str | None, as_json: bool) -> None:
    warehouse = state.warehouse(pipeline).describe()
    with MetaStore.for_state_dir(state.state_dir()) as store:
        tables = store.schema_tables(warehouse)
    if as_json:
        payload = [
            {"table": t.table_name, "version": t.latest_version, "updated_at": str(t.updated_at)}
            for t in tables
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out = Table(title=f"tables with a schema history · {warehouse}")
    for column in ("table", "latest version", "updated (UTC)"):
        out.add_column(column)
    for t in tables:
        out.add_row(t.table_name, str(t.latest_version), t.updated_at.strftime("%Y-%m-%d %H:%M:%S"))
    render.stdout().print(out)


def show(
    state: CliState, table: str, *, version: int | None, pipeline: str | None, as_json: bool
) -> None:
    chosen = _pick(_versions(state, table, pipeline), version)
    if as_json:
        payload = {
            "table": chosen.table,
            "version": chosen.version,
            "fingerprint": chosen.fingerprint,
            "columns": chosen.schema.to_dicts(),
            "aliases": dict(chosen.aliases),
            "reason": chosen.reason,
            "created_at": chosen.created_at.isoformat(),
            "run_id": chosen.run_id,
            "load_id": chosen.load_id,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out = Table(
        title=f"{chosen.table} · schema version {chosen.version} · {chosen.fingerprint}",
        caption=_caption(chosen),
    )
    for heading in ("#", "column", "type", "nullable"):
        out.add_column(heading)
    for position, column in enumerate(chosen.schema, start=1):
        type_text = Text(column.sql_type, style="dim" if not column.resolved else "")
        out.add_row(str(position), column.name, type_text, "yes" if column.nullable else "no")
    render.stdout().print(out)


def _caption(version: SchemaVersion) -> str:
    parts = [f"{version.reason} at {version.created_at:%Y-%m-%d %H:%M:%S} UTC"]
    if version.run_id:
        parts.append(f"run {version.run_id}")
    if version.aliases:
        parts.append(
            "aliases: " + ", ".join(f"{old} → {new}" for old, new in version.aliases.items())
        )
    return " · ".join(parts)


def history(state: CliState, table: str, *, pipeline: str | None, as_json: bool) -> None:
    versions = _versions(state, table, pipeline)
    if as_json:
        payload = [
            {
                "version": v.version,
                "fingerprint": v.fingerprint,
                "reason": v.reason,
                "created_at": v.created_at.isoformat(),
                "run_id": v.run_id,
                "load_id": v.load_id,
                "changes": v.diff.lines(),
            }
            for v in versions
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out = Table(title=f"{versions[-1].table} · schema history")
    for column in ("version", "created (UTC)", "by", "changes"):
        out.add_column(column, overflow="fold")
    for v in versions:
        by = v.reason + (f" · run {v.run_id}" if v.run_id else "")
        changes = "\n".join(v.diff.lines()) or "(first version)"
        out.add_row(str(v.version), f"{v.created_at:%Y-%m-%d %H:%M:%S}", by, changes)
    render.stdout().print(out)


def show_diff(
    state: CliState, table: str, old: int, new: int, *, pipeline: str | None, as_json: bool
) -> None:
    versions = _versions(state, table, pipeline)
    before, after = _pick(versions, old), _pick(versions, new)
    changes = diff(before.schema, after.schema, dict(after.aliases))
    if as_json:
        sys.stdout.write(json.dumps(changes.to_dict(), indent=2) + "\n")
        return
    out = render.stdout()
    out.print(f"[bold]{before.table}[/]: version {old} → {new}")
    for line in changes.lines() or ["no changes"]:
        style = {"+": "green", "-": "red", "~": "yellow", "→": "cyan"}.get(line[:1], "")
        out.print(Text(f"  {line}", style=style))


def export(
    state: CliState,
    table: str,
    *,
    version: int | None,
    output_format: str,
    out: Path | None,
    pipeline: str | None,
) -> None:
    from sluiceway.schema.export import to_avro, to_json_schema

    chosen = _pick(_versions(state, table, pipeline), version)
    name = chosen.table.replace(".", "_")
    if output_format == "avro":
        document = to_avro(chosen.schema, name=name, namespace="sluiceway", aliases=chosen.aliases)
    else:
        document = to_json_schema(chosen.schema, title=chosen.table, version=chosen.version)
    text = json.dumps(document, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        render.stderr().print(f"wrote {output_format} of {chosen.table} v{chosen.version} to {out}")

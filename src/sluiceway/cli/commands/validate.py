"""``sluiceway validate``: check a pipeline file and say what it will do."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.redaction import redact
from sluiceway.warehouses.base import WarehouseContext


def validate(state: CliState, target: str | None) -> None:
    pipeline = state.load(target)
    spec = pipeline.spec
    warehouse = state.registry.warehouses.create(
        spec.warehouse, WarehouseContext(pipeline.state_dir, pipeline.resolve)
    )
    out = render.stdout()
    out.print(f"[green]✓[/] {pipeline.file} is valid: pipeline [bold]{spec.pipeline}[/]")
    out.print(f"  warehouse: {escape(redact(warehouse.describe()))}")
    out.print(f"  state:     {pipeline.state_dir}")
    table = Table(title="sources")
    for column in ("source", "type", "table", "write", "key", "input"):
        table.add_column(column)
    for name, source in spec.sources.items():
        settings = spec.settings(name)
        path = getattr(source, "path", "")
        table.add_row(
            name,
            source.type,
            str(settings.table),
            settings.write,
            ", ".join(settings.primary_key),
            path if isinstance(path, str) else ", ".join(path),
        )
    out.print(table)

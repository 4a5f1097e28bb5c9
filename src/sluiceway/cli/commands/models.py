"""``sluiceway models list`` and ``sluiceway show MODEL``."""

from __future__ import annotations

import json
import sys

from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.engine.model_steps import model_sql
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.transform.models import Model, discover_models


def _models(pipeline: LoadedPipeline) -> list[Model]:
    return discover_models(pipeline.file.parent, pipeline.spec.models)


def list_models(state: CliState, target: str | None, *, as_json: bool) -> None:
    pipeline = state.load(target)
    models = _models(pipeline)
    if as_json:
        rows = [
            {
                "name": m.name,
                "table": str(m.table),
                "materialized": m.config.materialized,
                "unique_key": m.config.unique_key,
                "time_column": m.config.time_column,
                "reads": list(m.reads),
                "checks": len(m.config.checks),
                "file": str(m.path),
            }
            for m in models
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not models:
        folder = pipeline.file.parent / pipeline.spec.models.path
        render.stdout().print(f"No models in {folder} (`.sql` files, one SELECT each).")
        return
    table = Table(title=f"{pipeline.name} · models", title_style="bold")
    for column in ("model", "materialized", "key / time", "reads", "checks", "file"):
        table.add_column(column)
    for m in models:
        keys = ", ".join(m.config.unique_key)
        if m.config.time_column:
            keys = f"{keys} / {m.config.time_column}" if keys else f"/ {m.config.time_column}"
        table.add_row(
            m.name,
            m.config.materialized,
            keys,
            ", ".join(m.reads),
            str(len(m.config.checks) or ""),
            str(m.path.relative_to(pipeline.file.parent)),
        )
    render.stdout().print(table)


def show_model(
    state: CliState, name: str, *, target: str | None, limit: int, output_format: str
) -> None:
    """The model's rows as its SQL gives them now, computed but not materialized."""
    pipeline = state.load(target)
    models = {m.name: m for m in _models(pipeline)}
    model = models.get(name)
    if model is None:
        raise ConfigError(
            f"pipeline {pipeline.name!r} has no model {name!r}",
            hint=f"Models: {', '.join(models) or 'none'} (`sluiceway models list`).",
        )
    warehouse = state.warehouse(target)
    warehouse.open(read_only=warehouse.capabilities.single_writer)
    try:
        dialect = warehouse.capabilities.dialect
        sql = f"SELECT * FROM ({model_sql(model, dialect)}) AS preview LIMIT {int(limit)}"
        result = warehouse.query(sql)
    finally:
        warehouse.close()
    if output_format == "json":
        render.write_json(result)
    elif output_format == "csv":
        render.write_csv(result)
    else:
        render.stdout().print(render.arrow_table(result, limit=limit))

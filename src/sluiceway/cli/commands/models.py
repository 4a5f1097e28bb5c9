"""``sluiceway models list`` and ``sluiceway show MODEL``."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pyarrow as pa
from rich.table import Table

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.engine.model_steps import model_query, model_rows, model_sql
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
                "kind": m.kind,
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
        render.stdout().print(
            f"No models in {folder} (`.sql` files, `.yaml` chains of operations, `.py` transforms)."
        )
        return
    table = Table(title=f"{pipeline.name} · models", title_style="bold")
    for column in ("model", "kind", "materialized", "key / time", "reads", "checks", "file"):
        table.add_column(column)
    for m in models:
        keys = ", ".join(m.config.unique_key)
        if m.config.time_column:
            keys = f"{keys} / {m.config.time_column}" if keys else f"/ {m.config.time_column}"
        table.add_row(
            m.name,
            m.kind,
            m.config.materialized,
            keys,
            ", ".join(m.reads),
            str(len(m.config.checks) or ""),
            _shown(m.path, pipeline.file.parent),
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
        if model.python is not None:  # computed whole: a function cannot be told to stop
            reader = model_rows(model, warehouse, batch_size=limit, bounds=None).reader
            first = list(itertools.islice(reader, 1))
            reader.close()
            result = pa.Table.from_batches(first, schema=reader.schema)
        else:
            sql = model_sql(model_query(model, warehouse), warehouse.capabilities.dialect)
            result = warehouse.query(f"SELECT * FROM ({sql}) AS preview LIMIT {int(limit)}")
    finally:
        warehouse.close()
    if output_format == "json":
        render.write_json(result)
    elif output_format == "csv":
        render.write_csv(result)
    else:
        render.stdout().print(render.arrow_table(result, limit=limit))


def _shown(path: Path, base: Path) -> str:
    """A model's file relative to the pipeline's folder when it is under it."""
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)

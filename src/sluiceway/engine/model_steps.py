"""How the engine builds a model (SQL, operations, or a Python transform).

A `view` is created (or replaced) in one transaction. Every other materialization is a load
whose rows come from the warehouse itself: the model's SELECT (an operations model's chain is
compiled to one, over its input's columns as the warehouse has them now), compiled for the
warehouse and streamed in batches — or the rows a Python transform returns — goes through the
same path as a source's rows — the schema contract, the
quality rules (``checks``), the write (``replace`` for a `table`, ``merge`` by ``unique_key`` for
an `incremental` one, ``scd2``), the DLQ and the load record, committed in one transaction. An
incremental model with a ``time_column`` keeps a cursor like an incremental source: only rows at
or past it (minus ``lookback``) are computed again, and the bound goes into the SQL.

Columns named ``_sluiceway_*`` that a model selects from a loaded table (``SELECT *``) describe
that table's loads, not the model's: they are dropped, and the model's own load adds its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlglot import exp

from sluiceway.core.errors import ConfigError, Location
from sluiceway.core.names import TableRef
from sluiceway.core.sql_compile import SqlCompileError, compile_sql
from sluiceway.core.sql_types import sql_type
from sluiceway.sources.base import CursorBounds
from sluiceway.spec.incremental import IncrementalSpec
from sluiceway.spec.models import SourceSettings
from sluiceway.spec.write import Scd2Spec
from sluiceway.transform.models import Model
from sluiceway.transform.ops import compile_ops, prepare
from sluiceway.transform.python import bookkeeping_free, run_transform
from sluiceway.warehouses import sql_builders as sb
from sluiceway.warehouses.base import Warehouse

_WRITES = {"table": "replace", "incremental": "append", "scd2": "scd2"}


def model_settings(model: Model, spec: Any) -> SourceSettings:
    """The load settings of a materialized model, with the pipeline's defaults."""
    config = model.config
    write = _WRITES[config.materialized]
    if config.materialized == "incremental" and config.unique_key:
        write = "merge"
    incremental = None
    if config.time_column is not None:
        incremental = IncrementalSpec.model_validate(
            {"cursor": config.time_column, "lookback": config.lookback}
        )
    return SourceSettings(
        name=model.name,
        table=model.table,
        write=write,  # type: ignore[arg-type]
        primary_key=tuple(config.unique_key),
        batch_size=spec.defaults.batch_size,
        lineage=spec.defaults.lineage,
        on_bad_rows="fail",
        contract=spec.defaults.contract,
        checks=tuple(config.checks),
        incremental=incremental,
        scd2=(config.scd2 or Scd2Spec()) if config.materialized == "scd2" else None,
        profile=config.profile,
    )


def model_query(model: Model, warehouse: Warehouse[Any]) -> exp.Expr:
    """A SQL or operations model's SELECT as a DuckDB-dialect tree; an operations chain is
    compiled over its input's columns as the warehouse has them (without load bookkeeping)."""
    if model.kind == "ops":
        assert model.source is not None
        arrow = warehouse.table_schema(TableRef.parse(model.source))
        columns = (
            {f.name: sql_type(f.type) for f in bookkeeping_free(arrow)}
            if arrow is not None
            else None
        )
        return compile_ops(model.source, model.ops, columns=columns)
    if model.kind == "python":
        raise TypeError(f"model {model.name!r} is a Python transform: it has no SELECT")
    return exp.maybe_parse(model.sql, dialect="duckdb")


def model_sql(query: exp.Expr, dialect: str, bounds: CursorBounds | None = None) -> str:
    """A model's SELECT (:func:`model_query`) for ``dialect``, narrowed to a cursor window when
    given."""
    tree = query
    if bounds is not None:
        column = exp.column(bounds.column, table="m", quoted=True)
        conditions: list[exp.Expr] = []
        if bounds.lower is not None:
            low = exp.convert(bounds.lower)
            conditions.append(column >= low if bounds.lower_inclusive else column > low)
        if bounds.upper is not None:
            conditions.append(column < exp.convert(bounds.upper))
        wrapped = exp.select("*").from_(
            exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier("m")))
        )
        if conditions:
            wrapped = wrapped.where(exp.and_(*conditions))
        tree = wrapped
    return compile_sql(prepare(tree, dialect), dialect)


def compiled(
    model: Model, query: exp.Expr, dialect: str, bounds: CursorBounds | None = None
) -> str:
    """:func:`model_sql`, a SQL construct with no translation for ``dialect`` reported as the
    model's error, naming its file."""
    try:
        return model_sql(query, dialect, bounds)
    except SqlCompileError as exc:
        raise ConfigError(
            f"model {model.name!r}: its SQL cannot run on {dialect}: {exc.message}",
            location=Location(file=str(model.path)),
            hint="Rewrite the construct in portable SQL (docs/postgres.md lists what compiles).",
        ) from exc


@dataclass
class ModelRows:
    """A materialized model's rows, and the DuckDB SQL its column lineage is traced from (a
    Python transform's only when it returned a relation built from its inputs)."""

    reader: pa.RecordBatchReader
    lineage_sql: str | None
    sql: str | None = None  # the query the warehouse runs (None: a Python transform)


def model_rows(
    model: Model, warehouse: Warehouse[Any], *, batch_size: int, bounds: CursorBounds | None
) -> ModelRows:
    """The model's rows from the warehouse, in batches, without loaded tables' bookkeeping."""
    if model.python is not None:
        output = run_transform(model.python, warehouse, batch_size=batch_size)
        return ModelRows(output.reader, output.traced_sql)
    query = model_query(model, warehouse)
    sql = compiled(model, query, warehouse.capabilities.dialect, bounds)
    reader = warehouse.stream(sql, batch_size=batch_size)
    return ModelRows(_without_bookkeeping(reader), query.sql(dialect="duckdb"), sql)


def _without_bookkeeping(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    schema = bookkeeping_free(reader.schema)
    if len(schema) == len(reader.schema):
        return reader
    keep = [reader.schema.get_field_index(f.name) for f in schema]

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield pa.RecordBatch.from_arrays([batch.column(i) for i in keep], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def view_statements(model: Model, warehouse: Warehouse[Any], sql: str) -> list[str]:
    """Create (or replace) a view model as ``sql`` (its SELECT, compiled for the warehouse), in
    the warehouse's default schema unless it names one, in one transaction; its schema exists
    already (:meth:`~sluiceway.warehouses.base.Warehouse.create_schema`)."""
    dialect = warehouse.capabilities.dialect
    target = sb.table(model.table, warehouse.default_schema)
    return [
        f"DROP VIEW IF EXISTS {target.sql(dialect)}",
        f"CREATE VIEW {target.sql(dialect)} AS {sql}",
    ]

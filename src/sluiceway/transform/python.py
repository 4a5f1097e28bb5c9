"""Python transforms: a decorated function over DuckDB relations, Arrow tables or Polars frames.

::

    import pyarrow as pa
    import pyarrow.compute as pc
    from sluiceway import model

    @model(
        "gold.big_orders",
        inputs={"orders": "silver.orders"},
        materialized="table",
        unique_key="order_id",
        lineage={"order_id": ["silver.orders.order_id"]},
    )
    def big_orders(orders):               # a DuckDB relation (format="duckdb", the default)
        return orders.filter("amount > 100").project("order_id, amount")

The function is registered by its model's name when its file is imported: a ``.py`` file under
the pipeline's ``models/`` folder, or a module named in ``models.modules``. Each argument is an
input table, given in ``format`` (``duckdb``: a relation; ``arrow``: a ``pyarrow.Table``;
``polars``: a ``polars.DataFrame``); it returns a relation, an Arrow table or record batch reader,
or a Polars frame, whatever its inputs were. Its rows then take the path of any model's rows:
contract, quality rules, write, DLQ, load record.

Lineage: declared with ``lineage={output column: [source columns] | {sources, expression}}``;
else, when the function returns a DuckDB relation built from its inputs, the relation's SQL is
traced like a SQL model's; else only the table-level edges (inputs → model) are recorded.

An exception inside the function (or raised while its relation is computed) fails the step with
a :class:`~sluiceway.core.errors.UserCodeError` naming the model, the file and line of the user
frame that raised, and keeping the original traceback (``--debug`` prints it).
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import pyarrow as pa

from sluiceway.core.errors import (
    ConfigError,
    Location,
    SluicewayError,
    UserCodeError,
    WarehouseError,
)
from sluiceway.core.names import RESERVED_PREFIX, TableRef
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.transform.lineage_types import COLUMN_KINDS, ColumnLineage, ColumnRef

if TYPE_CHECKING:
    import duckdb

    from sluiceway.warehouses.base import Warehouse

InputFormat = Literal["duckdb", "arrow", "polars"]
FORMATS: tuple[InputFormat, ...] = get_args(InputFormat)

Lineage = Mapping[str, Sequence[str] | Mapping[str, Any]]
"""Declared column lineage: output column → its source columns (``schema.table.column``), or
``{"sources": [...], "expression": "...", "kind": "derived"}``."""


def _declared(name: str, lineage: Lineage) -> tuple[ColumnLineage, ...]:
    """Declared lineage, checked: every source is ``table.column``, every kind is known."""
    found: list[ColumnLineage] = []
    for column, spec in lineage.items():
        detail: Mapping[str, Any] = {}
        if isinstance(spec, Mapping):
            detail = spec
        elif not isinstance(spec, str):
            detail = {"sources": list(spec)}
        if not detail or set(detail) - {"sources", "expression", "kind"}:
            raise ValueError(
                f"model {name!r}: lineage of {column!r} is a list of source columns or "
                "{sources, expression, kind}"
            )
        try:
            sources = tuple(ColumnRef.parse(str(s)) for s in detail.get("sources", ()))
        except ValueError as exc:
            raise ValueError(f"model {name!r}: lineage of {column!r}: {exc}") from None
        kind = detail.get("kind") or (
            "constant"
            if not sources
            else "identity"
            if len(sources) == 1 and not detail.get("expression")
            else "derived"
        )
        if kind not in COLUMN_KINDS:
            raise ValueError(
                f"model {name!r}: lineage of {column!r}: kind {kind!r} is not one of "
                f"{', '.join(COLUMN_KINDS)}"
            )
        expression = str(detail.get("expression") or ", ".join(map(str, sources)) or "")
        found.append(ColumnLineage(column.lower(), sources, expression, kind))
    return tuple(found)


def declared_lineage(transform: PythonTransform) -> list[dict[str, Any]]:
    """A transform's declared lineage as event data (JSON-friendly)."""
    return [
        {
            "column": item.column,
            "sources": [str(ref) for ref in item.sources],
            "expression": item.expression,
            "kind": item.kind,
        }
        for item in transform.lineage or ()
    ]


@dataclass(frozen=True)
class PythonTransform:
    """A registered transform: the function, its inputs (argument → table) and settings."""

    name: str
    function: Callable[..., Any]
    inputs: Mapping[str, str]
    format: InputFormat
    config: Mapping[str, Any]  # ModelConfig settings from the decorator
    lineage: tuple[ColumnLineage, ...] | None
    file: Path
    line: int
    source: str = field(repr=False)  # the function's code: a new version when it changes

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(table.lower() for table in self.inputs.values()))

    def location(self) -> Location:
        return Location(file=str(self.file), line=self.line)


_collected: list[PythonTransform] | None = None  # where the decorator registers, while loading


def model(
    name: str,
    *,
    inputs: Mapping[str, str] | Sequence[str] = (),
    format: InputFormat = "duckdb",
    lineage: Lineage | None = None,
    **config: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the model ``name`` (``schema.table`` it builds,
    unless ``table=`` says otherwise).

    ``inputs``: argument name → table it receives, or a list of tables given in order to the
    function's positional parameters. ``config``: any model setting (``materialized`` —
    ``table`` by default, ``incremental`` with ``unique_key``, or ``scd2`` —, ``unique_key``,
    ``checks``, ``depends_on``, ``scd2``, ``description``, ``table``). The function itself is
    returned unchanged, so it can be called in tests with tables of one's own.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")

    declared = _declared(name, lineage) if lineage is not None else None

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        named = _bind_inputs(name, function, inputs)
        code = inspect.getsourcefile(function) or "<unknown>"
        try:
            lines, first = inspect.getsourcelines(function)
            text = "".join(lines)
        except (OSError, TypeError):
            first, text = 0, repr(function)
        transform = PythonTransform(
            name=name,
            function=function,
            inputs=named,
            format=format,
            config={"materialized": "table", **config},
            lineage=declared,
            file=Path(code),
            line=first,
            source=text,
        )
        if _collected is not None:
            _collected.append(transform)
        function.__sluiceway_model__ = transform  # type: ignore[attr-defined]
        return function

    return register


def _bind_inputs(
    name: str, function: Callable[..., Any], inputs: Mapping[str, str] | Sequence[str]
) -> dict[str, str]:
    """``inputs`` as argument name → table, checked against the function's parameters."""
    parameters = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if isinstance(inputs, Mapping):
        named = dict(inputs)
    else:
        tables = list(inputs)
        if len(tables) > len(parameters):
            raise ValueError(
                f"model {name!r}: {len(tables)} inputs, but {function.__name__}() takes "
                f"{len(parameters)} argument(s)"
            )
        named = dict(zip(parameters, tables, strict=False))
    unknown = sorted(set(named) - set(parameters))
    missing = [p for p in parameters if p not in named]
    if unknown or missing:
        raise ValueError(
            f"model {name!r}: inputs must name {function.__name__}()'s arguments"
            + (f"; no argument {', '.join(map(repr, unknown))}" if unknown else "")
            + (f"; no input for {', '.join(map(repr, missing))}" if missing else "")
        )
    for table in named.values():
        TableRef.parse(table)  # a bad name fails here, at import
    return named


def collect(load: Callable[[], Any]) -> list[PythonTransform]:
    """The transforms registered while ``load()`` runs (imports a file or module)."""
    global _collected  # noqa: PLW0603 - the decorator has nowhere else to register
    outer, _collected = _collected, []
    try:
        load()
        return list(_collected)
    finally:
        _collected = outer


# -- running ---------------------------------------------------------------------------------


@dataclass
class TransformOutput:
    """A transform's rows, and the SQL of the relation it returned (traced for lineage)."""

    reader: pa.RecordBatchReader
    traced_sql: str | None


def run_transform(
    transform: PythonTransform, warehouse: Warehouse[Any], *, batch_size: int
) -> TransformOutput:
    """Call the function with its inputs read from ``warehouse``; its rows as a reader."""
    session = _Session(transform, warehouse)
    try:
        arguments = {arg: session.read(table) for arg, table in transform.inputs.items()}
        try:
            result = transform.function(**arguments)
        except Exception as exc:
            raise user_code_error(transform, exc) from exc
        return session.output(result, batch_size=batch_size)
    except BaseException:
        session.close()
        raise


class _Session:
    """The inputs of one call, and a DuckDB connection when the format needs one: the
    warehouse's own (DuckDB) or, over another warehouse, an in-memory one whose views carry
    the input tables' names (so a returned relation's SQL names the real tables)."""

    def __init__(self, transform: PythonTransform, warehouse: Warehouse[Any]) -> None:
        self.transform = transform
        self.warehouse = warehouse
        self.con: duckdb.DuckDBPyConnection | None = None

    def read(self, table: str) -> Any:
        ref = TableRef.parse(table)
        if self.transform.format == "duckdb":
            import duckdb

            try:
                relation = self._duckdb().table(_qualified(ref, self.warehouse.default_schema))
            except duckdb.Error as exc:
                raise self._unreadable(ref, str(exc).strip().splitlines()[0]) from exc
            keep = [c for c in relation.columns if not c.startswith(RESERVED_PREFIX)]
            if len(keep) < len(relation.columns):
                relation = relation.project(", ".join(quote_identifier(c) for c in keep))
            return relation
        data = self._arrow(ref)
        if self.transform.format == "arrow":
            return data
        try:
            import polars as pl
        except ImportError as exc:
            raise ConfigError(
                f"model {self.transform.name!r} takes Polars frames (format='polars'), but "
                "polars is not installed",
                hint="pip install 'sluiceway[polars]' (or polars).",
                location=self.transform.location(),
            ) from exc

        return pl.from_arrow(data)

    def _arrow(self, ref: TableRef) -> pa.Table:
        dialect = self.warehouse.capabilities.dialect
        from sluiceway.warehouses import sql_builders as sb

        target = sb.table(ref, self.warehouse.default_schema).sql(dialect)
        try:
            return _without_bookkeeping(self.warehouse.query(f"SELECT * FROM {target}"))
        except WarehouseError as exc:
            raise self._unreadable(ref, exc.message) from exc

    def _unreadable(self, ref: TableRef, why: str) -> WarehouseError:
        return WarehouseError(
            f"model {self.transform.name!r}: cannot read its input {ref}: {why}",
            hint="Does a source or model build it before this one?",
        )

    def _duckdb(self) -> duckdb.DuckDBPyConnection:
        if self.con is not None:
            return self.con
        cursor = self.warehouse.duckdb_cursor()
        if cursor is not None:
            self.con = cursor
            return cursor
        import duckdb

        self.con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
        for index, table in enumerate(self.transform.reads):
            ref = TableRef.parse(table)
            view = f"_sluiceway_input_{index}"
            self.con.register(view, self._arrow(ref))
            schema = quote_identifier(ref.schema or self.warehouse.default_schema)
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self.con.execute(
                f"CREATE OR REPLACE VIEW {_qualified(ref, self.warehouse.default_schema)} "
                f"AS FROM {view}"
            )
        return self.con

    def output(self, result: Any, *, batch_size: int) -> TransformOutput:
        transform = self.transform
        import duckdb

        if isinstance(result, duckdb.DuckDBPyRelation):
            traced = _relation_sql(result)  # private views carry the inputs' names
            try:
                reader = result.to_arrow_reader(batch_size)
            except duckdb.Error as exc:
                raise user_code_error(transform, exc) from exc
            return TransformOutput(self._guarded(reader), traced)
        if isinstance(result, pa.Table):
            reader = pa.RecordBatchReader.from_batches(
                result.schema, result.to_batches(max_chunksize=batch_size)
            )
        elif isinstance(result, pa.RecordBatchReader):
            reader = result
        elif _is_polars(result):
            table = result.to_arrow()
            reader = pa.RecordBatchReader.from_batches(
                table.schema, table.to_batches(max_chunksize=batch_size)
            )
        else:
            raise UserCodeError(
                f"model {transform.name!r}: {transform.function.__name__}() returned "
                f"{type(result).__name__}; a transform returns a DuckDB relation, an Arrow "
                "table or record batch reader, or a Polars DataFrame",
                location=transform.location(),
            )
        return TransformOutput(self._guarded(reader), None)

    def _guarded(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """``reader`` with errors raised while it computes wrapped as the model's, and the
        session closed when it ends."""
        transform = self.transform
        schema = bookkeeping_free(reader.schema)
        keep = [reader.schema.get_field_index(f.name) for f in schema]

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in reader:
                    yield pa.RecordBatch.from_arrays([batch.column(i) for i in keep], schema=schema)
            except SluicewayError:
                raise
            except Exception as exc:
                raise user_code_error(transform, exc) from exc
            finally:
                self.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def user_code_error(transform: PythonTransform, exc: BaseException) -> UserCodeError:
    """``exc`` raised by ``transform``'s code, as the model's error: where in the user's file
    it was raised, what, and the original traceback (kept for ``--debug``)."""
    message = f"model {transform.name!r}: {transform.function.__name__}() raised"
    return _raised(message, exc, transform.location())


def import_error(exc: BaseException, where: Location) -> UserCodeError:
    """A models file or module that failed to import: where, what, the traceback."""
    return _raised("cannot import the models in it:", exc, where)


def _raised(message: str, exc: BaseException, where: Location) -> UserCodeError:
    """``exc`` as a :class:`UserCodeError`: ``where`` narrowed to the last line of its file the
    traceback passes (a syntax error's own line), the original traceback kept for --debug."""
    found = where
    if where.file is not None:
        for frame, line in traceback.walk_tb(exc.__traceback__):
            if Path(frame.f_code.co_filename) == Path(where.file):
                found = Location(file=where.file, line=line)
        if isinstance(exc, SyntaxError) and exc.filename == where.file:
            found = Location(file=where.file, line=exc.lineno)
    error = UserCodeError(
        f"{message} {type(exc).__name__}: {exc}",
        location=found,
        hint="Run again with --debug for the whole traceback.",
    )
    error.__sluiceway_traceback__ = "".join(  # type: ignore[attr-defined]
        traceback.format_exception(exc)
    )
    return error


def _relation_sql(relation: duckdb.DuckDBPyRelation) -> str | None:
    try:
        return relation.sql_query()
    except Exception:
        return None


def _is_polars(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("polars") and hasattr(value, "to_arrow")


def _qualified(ref: TableRef, default_schema: str) -> str:
    return f"{quote_identifier(ref.schema or default_schema)}.{quote_identifier(ref.name)}"


def bookkeeping_free(schema: pa.Schema) -> pa.Schema:
    """``schema`` without the columns that describe a loaded table's loads (``_sluiceway_*``):
    a model's input and output leave them out (its own load adds its own)."""
    return pa.schema([f for f in schema if not f.name.startswith(RESERVED_PREFIX)])


def _without_bookkeeping(table: pa.Table) -> pa.Table:
    return table.select([f.name for f in bookkeeping_free(table.schema)])

"""Read files through DuckDB's parallel readers and stream them as Arrow batches.

DuckDB's ``read_csv``/``read_json``/``read_parquet`` are the fast path: multi-threaded parsing,
decompression on the fly, bounded memory through a streaming result. Each file is scanned on its
own, so a row's source file is known, progress advances per file, and an error names the file.
Every scan projects onto one unified schema, so all batches of a source share a schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.core.errors import Location, MalformedInputError, SluicewayError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.core.sql_types import sql_type
from sluiceway.schema.casting import INTEGER_PATTERN, decimal_pattern
from sluiceway.sources.base import ReadContext

# Settings every private connection gets: never download or auto-load an extension (this machine
# has parquet, json and icu built in, nothing else), keep row order so line numbers and
# "last row wins" mean what they say.
CONNECTION_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "preserve_insertion_order": True,
}


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB for reading files."""
    con = duckdb.connect(":memory:", config=CONNECTION_CONFIG)
    con.execute("SET TimeZone = 'UTC'")
    return con


@dataclass(frozen=True, slots=True)
class FileScan:
    """How to read one file: a table-function call plus its bound parameters."""

    path: Path
    display: str
    function_sql: str  # e.g. "read_csv($path, delim=$delim, ...)"
    params: dict[str, Any]
    columns: dict[str, pa.DataType]  # what the file provides, by name
    size: int
    estimated_rows: float | None = None
    rejects_table: str | None = None  # CSV with on_bad_rows=dlq: DuckDB's rejects table
    # Columns cast in the projection after a check of their text's format, because DuckDB's own
    # casts round (12.5 into BIGINT is 13): CSV integers and decimals (read as text) and declared
    # integer/decimal columns of other formats. Column → (SQL type, pattern).
    text_casts: dict[str, tuple[str, str]] = field(default_factory=dict)


def checked_cast(own: pa.DataType, target: pa.DataType) -> tuple[str, str] | None:
    """How to cast ``own`` values into an integer or decimal ``target`` without rounding.

    ``(target's SQL type, the pattern a value's text must match)`` for :attr:`FileScan.text_casts`,
    or ``None`` when the cast needs no check. DuckDB's casts round (12.5 into BIGINT is 13, 1.234
    into DECIMAL(10,2) is 1.23), so a value must be written as the target type holds it.
    """
    if own.equals(target):
        return None
    text = pa.types.is_string(own) or pa.types.is_large_string(own)
    if pa.types.is_integer(target):
        # Text must be written as an integer; a number's rendering may end in ".0" (12.0).
        return sql_type(target), INTEGER_PATTERN if text else decimal_pattern(0)
    if pa.types.is_decimal(target):
        return sql_type(target), decimal_pattern(target.scale)
    return None


def with_declared_checks(scan: FileScan, declared: Mapping[str, pa.DataType]) -> FileScan:
    """``scan`` with a checked cast for each declared column whose values it must convert."""
    checks = {}
    for column, target in declared.items():
        own = scan.columns.get(column)
        check = None if own is None else checked_cast(own, target)
        if check is not None:
            checks[column] = check
    return replace(scan, text_casts={**scan.text_casts, **checks}) if checks else scan


Translate = Callable[[Exception, FileScan], SluicewayError]
CollectRejects = Callable[[duckdb.DuckDBPyConnection, FileScan], list[Reject]]


INVALID_COLUMN = "__sluiceway_invalid"


def projection_sql(
    scan: FileScan, schema: pa.Schema, *, lineage: bool
) -> tuple[str, dict[str, Any]]:
    """``SELECT`` the unified schema's columns from one file's scan, casting where they differ.

    Checked casts add a struct column ``__sluiceway_invalid`` naming the first column of a row
    whose text does not have the target type's format or range (NULL for good rows).
    """
    items = []
    params: dict[str, Any] = {}
    for column in schema:
        if column.name == SOURCE_COLUMN and lineage:
            items.append(f"$__source AS {quote_identifier(SOURCE_COLUMN)}")
            continue
        quoted = quote_identifier(column.name)
        own = scan.columns.get(column.name)
        if column.name in scan.text_casts:
            items.append(f"TRY_CAST({quoted} AS {sql_type(column.type)}) AS {quoted}")
        elif own is None:
            items.append(f"CAST(NULL AS {sql_type(column.type)}) AS {quoted}")
        elif own.equals(column.type):
            items.append(quoted)
        elif pa.types.is_string(column.type) and pa.types.is_nested(own):
            # An object or array in a text column keeps its JSON text, not DuckDB's rendering.
            items.append(f"CAST(to_json({quoted}) AS VARCHAR) AS {quoted}")
        else:
            items.append(f"CAST({quoted} AS {sql_type(column.type)}) AS {quoted}")
    if scan.text_casts:
        branches = []
        for index, (column, (target, pattern)) in enumerate(scan.text_casts.items()):
            quoted = quote_identifier(column)
            text = f"CAST({quoted} AS VARCHAR)"
            params[f"__pattern_{index}"] = pattern
            params[f"__column_{index}"] = column
            # The format check catches rounding; the TRY_CAST check catches text of the right
            # format that is out of the type's range (which TRY_CAST would make NULL).
            branches.append(
                f"WHEN {quoted} IS NOT NULL AND (NOT regexp_full_match({text}, "
                f"$__pattern_{index}) OR TRY_CAST({quoted} AS {target}) IS NULL) "
                f"THEN {{'column': $__column_{index}, 'value': {text}}}"
            )
        items.append(f"CASE {' '.join(branches)} END AS {quote_identifier(INVALID_COLUMN)}")
    return f"SELECT {', '.join(items)} FROM {scan.function_sql}", params


def stream_scans(
    scans: Sequence[FileScan],
    schema: pa.Schema,
    ctx: ReadContext,
    *,
    translate: Translate,
    collect_rejects: CollectRejects | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.RecordBatchReader:
    """One reader over all files, in order, every batch in ``schema``.

    ``con`` hands over the connection used for planning (the stream closes it when done), so a
    source does not open a second one.
    """
    total = sum(scan.size for scan in scans)
    ctx.progress.expect(total, len(scans))
    return pa.RecordBatchReader.from_batches(
        schema,
        _batches(
            scans,
            schema,
            ctx,
            translate=translate,
            collect_rejects=collect_rejects,
            con=con or connect(),
        ),
    )


def _batches(
    scans: Sequence[FileScan],
    schema: pa.Schema,
    ctx: ReadContext,
    *,
    translate: Translate,
    collect_rejects: CollectRejects | None,
    con: duckdb.DuckDBPyConnection,
) -> Iterator[pa.RecordBatch]:
    done_bytes = 0
    try:
        for scan in scans:
            ctx.cancel.check()
            ctx.progress.file(scan.display)
            sql, checks = projection_sql(scan, schema, lineage=ctx.lineage)
            params = {**scan.params, **checks}
            if ctx.lineage and SOURCE_COLUMN in schema.names:
                params["__source"] = scan.display
            rows = 0
            try:
                reader = con.sql(sql, params=params).to_arrow_reader(ctx.batch_size)
                for raw in reader:
                    batch = _split_invalid(raw, scan, ctx, rows) if scan.text_casts else raw
                    rows += raw.num_rows
                    if scan.estimated_rows:
                        fraction = min(0.99, rows / scan.estimated_rows)
                        ctx.progress.consumed(done_bytes + int(scan.size * fraction))
                    yield batch if batch.schema.equals(schema) else batch.cast(schema)
                    ctx.cancel.check()
            except (duckdb.Error, OSError) as exc:
                # An error past the first chunk reaches us through the Arrow stream, where
                # DuckDB's exception has become a plain OSError carrying the same message.
                raise translate(exc, scan) from exc
            if collect_rejects is not None and scan.rejects_table is not None:
                for reject in collect_rejects(con, scan):
                    ctx.reject(reject)
            done_bytes += scan.size
            ctx.progress.consumed(done_bytes)
    finally:
        con.close()


def describe(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pa.Schema:
    """The Arrow schema of a query without reading its rows."""
    return con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=params).to_arrow_table().schema


def _split_invalid(
    batch: pa.RecordBatch, scan: FileScan, ctx: ReadContext, rows_before: int
) -> pa.RecordBatch:
    """Drop the check column; rows that failed a format check are an error or go to the DLQ."""
    index = batch.schema.get_field_index(INVALID_COLUMN)
    flags = batch.column(index)
    good = batch.remove_column(index)
    if flags.null_count == len(flags):
        return good
    valid = pc.is_null(flags)
    bad_rows = pc.indices_nonzero(pc.invert(valid)).to_pylist()
    problems = flags.filter(pc.invert(valid)).to_pylist()
    for position, problem in zip(bad_rows, problems, strict=True):
        column = str(problem["column"])
        target = scan.text_casts[column][0]
        row_number = rows_before + position + 1
        message = f"value {problem['value']!r} is not a valid {target} (data row {row_number})"
        if ctx.settings.on_bad_rows == "fail":
            raise MalformedInputError(
                message,
                location=Location(file=scan.display, column=column),
                hint=f"Declare the column as text (`columns: {{{column}: VARCHAR}}`), fix the "
                "value, or set `on_bad_rows: dlq` to keep such rows in the dead-letter queue.",
            )
        row = {k: v for k, v in batch.slice(position, 1).to_pylist()[0].items()}
        row.pop(INVALID_COLUMN, None)
        row[column] = problem["value"]
        ctx.reject(
            Reject(
                source=ctx.settings.name,
                reason="type_mismatch",
                message=message,
                file=scan.display,
                column=column,
                raw=json.dumps(row, default=str),
            )
        )
    return good.filter(valid)

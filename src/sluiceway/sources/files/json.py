"""JSON files: an array of objects, or one object per line (NDJSON), gzip/zstd transparent.

DuckDB infers the schema (nested objects become STRUCTs, arrays LISTs) from a sample, then each
file is read with that same inference and cast to the unified schema in the projection. Reading
with ``columns=`` instead would switch off DuckDB's unknown-key check, so a key first seen after
the sample would be silently dropped; this way it is an error with its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
from pydantic import Field

from sluiceway.core.errors import Location, MalformedInputError, SchemaError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.sql_types import arrow_type, parse_sql_type
from sluiceway.schema.promotion import promote
from sluiceway.sources.base import ReadContext, Source
from sluiceway.sources.files import compression as compression_
from sluiceway.sources.files.duckdb_errors import translate_json
from sluiceway.sources.files.duckdb_scan import (
    FileScan,
    connect,
    describe,
    stream_scans,
    with_declared_checks,
)
from sluiceway.sources.files.spec import FileSourceSpec

_FORMATS = {"auto": "auto", "array": "array", "newline_delimited": "newline_delimited"}


class JsonSpec(FileSourceSpec):
    """JSON documents: `json` detects array vs. one object per line; `ndjson` means lines."""

    type: Literal["json", "ndjson"]
    format: Literal["auto", "array", "newline_delimited"] = Field(
        "auto", description="`array` of objects or `newline_delimited` objects; `auto` detects."
    )
    sample_size: int = Field(
        20_480, ge=-1, description="Records sampled per file to infer the schema; -1: all."
    )


class JsonSource(Source[JsonSpec]):
    spec = JsonSpec

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        files = ctx.files(self.config.path)
        con = connect()
        try:
            scans = [self._plan(con, path, ctx) for path in files]
        finally:
            con.close()
        declared = {n: arrow_type(parse_sql_type(t)) for n, t in self.config.columns.items()}
        unified: dict[str, pa.DataType] = {}
        order: list[str] = []
        for scan in scans:
            for column, column_type in scan.columns.items():
                if column not in unified:
                    unified[column] = column_type
                    order.append(column)
                    first = scan is scans[0] or column in declared
                    if not first and not self.config.union_by_name:
                        raise _different_keys(scan, scans[0], column)
                    continue
                common = promote(unified[column], column_type)
                unified[column] = common if common is not None else pa.string()
            missing = [c for c in order if c not in scan.columns and c not in declared]
            if missing and not self.config.union_by_name:
                raise _different_keys(scan, scans[0], missing[0], missing=True)
        # Declared keys win over inferred ones; a declared key absent from a file loads as NULL.
        order.extend(name for name in declared if name not in unified)
        unified.update(declared)
        fields = [pa.field(c, unified[c]) for c in order]
        if ctx.lineage:
            if SOURCE_COLUMN in unified:
                raise SourceError(f"the input already has a key named {SOURCE_COLUMN}")
            fields.append(pa.field(SOURCE_COLUMN, pa.string()))
        checked = [with_declared_checks(scan, declared) for scan in scans]
        return stream_scans(checked, pa.schema(fields), ctx, translate=translate_json)

    def _plan(self, con: duckdb.DuckDBPyConnection, path: Path, ctx: ReadContext) -> FileScan:
        display = ctx.display_path(path)
        size = path.stat().st_size
        kind = compression_.detect(path) if size else "none"
        head = compression_.read_head(path, kind) if size else None
        if head is None or not head.data.strip():
            raise MalformedInputError(
                "is empty",
                location=Location(file=display),
                hint="A JSON source needs at least one object ([] for an empty array).",
            )
        json_format = "newline_delimited" if self.config.type == "ndjson" else self.config.format
        params: dict[str, Any] = {
            "path": str(path),
            "format": _FORMATS[json_format],
            "compression": kind,
            "sample_size": self.config.sample_size,
        }
        scan = FileScan(
            path=path,
            display=display,
            function_sql=_READ_JSON_SQL,
            params=params,
            columns={},
            size=size,
        )
        try:
            schema = describe(con, f"SELECT * FROM {scan.function_sql}", params)
        except duckdb.Error as exc:
            raise translate_json(exc, scan) from exc
        lines = head.data.count(b"\n")
        estimated = None
        if lines > 1 and head.disk_bytes:
            estimated = size * (len(head.data) / head.disk_bytes) / (len(head.data) / lines)
        return FileScan(
            path=path,
            display=display,
            function_sql=_READ_JSON_SQL,
            params=params,
            columns={f.name: f.type for f in schema},  # the types the same scan will produce
            size=size,
            estimated_rows=estimated,
        )


_READ_JSON_SQL = (
    "read_json($path, format=$format, compression=$compression, sample_size=$sample_size)"
)


def _different_keys(
    scan: FileScan, first: FileScan, key: str, *, missing: bool = False
) -> SchemaError:
    what = "lacks" if missing else "has a new"
    return SchemaError(
        f"{what} key {key!r} compared with {first.display}",
        location=Location(file=scan.display),
        hint="Files of one source must share their keys; set `union_by_name: true` to load "
        "missing keys as NULL.",
    )

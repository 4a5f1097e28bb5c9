"""Parquet files: the schema comes from each file's footer, DuckDB reads the row groups.

A truncated or foreign file is caught while planning (before any row of any file is read), from
its footer; files whose column types differ are promoted to a common type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from sluiceway.core.errors import Location, MalformedInputError, SchemaError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.sql_types import arrow_type, parse_sql_type
from sluiceway.schema.promotion import promote
from sluiceway.sources.base import ReadContext, Source, SourceCapabilities
from sluiceway.sources.files.duckdb_errors import translate_parquet
from sluiceway.sources.files.duckdb_scan import FileScan, stream_scans, with_declared_checks
from sluiceway.sources.files.spec import FileSourceSpec


class ParquetSpec(FileSourceSpec):
    """Apache Parquet files."""

    type: Literal["parquet"]


class ParquetSource(Source[ParquetSpec]):
    spec = ParquetSpec
    capabilities = SourceCapabilities(schema_hint=True)

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        scans = [self._plan(path, ctx) for path in ctx.files(self.config.path)]
        declared = {n: arrow_type(parse_sql_type(t)) for n, t in self.config.columns.items()}
        unified: dict[str, pa.DataType] = {}
        for scan in scans:
            if scan is not scans[0] and not self.config.union_by_name:
                missing = [c for c in unified if c not in scan.columns]
                extra = [c for c in scan.columns if c not in unified]
                if missing or extra:
                    raise SchemaError(
                        f"has other columns than {scans[0].display}: "
                        f"missing {missing or 'none'}, new {extra or 'none'}",
                        location=Location(file=scan.display),
                        hint="Set `union_by_name: true` to load missing columns as NULL.",
                    )
            for column, column_type in scan.columns.items():
                if column in declared:
                    unified[column] = declared[column]
                elif column not in unified:
                    unified[column] = column_type
                else:
                    common = promote(unified[column], column_type)
                    if common is None:
                        raise SchemaError(
                            f"column {column!r} is {column_type}, but {unified[column]} in "
                            "earlier files, and neither holds the other",
                            location=Location(file=scan.display, column=column),
                            hint=f"Declare the type to load it as: `columns: {{{column}: ...}}`.",
                        )
                    unified[column] = common
        unknown = [name for name in declared if name not in unified]
        if unknown:
            raise SchemaError(
                f"declared column(s) {unknown} are not in the files",
                location=Location(file=scans[0].display),
            )
        fields = [pa.field(name, column_type) for name, column_type in unified.items()]
        if ctx.lineage:
            if SOURCE_COLUMN in unified:
                raise SourceError(f"the input already has a column named {SOURCE_COLUMN}")
            fields.append(pa.field(SOURCE_COLUMN, pa.string()))
        checked = [with_declared_checks(scan, declared) for scan in scans]
        return stream_scans(checked, pa.schema(fields), ctx, translate=translate_parquet)

    def _plan(self, path: Path, ctx: ReadContext) -> FileScan:
        display = ctx.display_path(path)
        try:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
            rows = parquet.metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise MalformedInputError(
                f"is not a Parquet file, or it is truncated ({exc})",
                location=Location(file=display),
                hint="Re-export or re-download the file; a partial copy has no footer.",
            ) from exc
        return FileScan(
            path=path,
            display=display,
            function_sql="read_parquet($path)",
            params={"path": str(path)},
            columns={f.name: _normalise(f.type) for f in schema},
            size=path.stat().st_size,
            estimated_rows=float(rows) if rows else None,
        )


def _normalise(t: pa.DataType) -> pa.DataType:
    """The type DuckDB hands back for a Parquet column type (large/view strings become string)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_dictionary(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_timestamp(t) and t.unit == "ns":
        return pa.timestamp("ns", tz=t.tz)
    return t

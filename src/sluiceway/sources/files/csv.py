"""CSV files: dialect detected from the head, types inferred from a sample, DuckDB reads.

Each file is planned before any row is read: compression from magic bytes, delimiter and header
from the first lines (:mod:`.csv_dialect`), types from a sample (:mod:`.text_types`) unless
declared. Then DuckDB reads every file strictly with that explicit dialect and those types, so a
malformed line is an error naming file and line (or, with ``on_bad_rows: dlq``, a rejected row
with its line and reason) instead of a silently skipped row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
from pydantic import Field, field_validator

from sluiceway.core.errors import Location, MalformedInputError, SchemaError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_types import arrow_type, parse_sql_type, sql_type
from sluiceway.schema.promotion import promote
from sluiceway.sources.base import ReadContext, Source
from sluiceway.sources.files import compression as compression_
from sluiceway.sources.files.csv_dialect import ENCODINGS, Dialect, detect_dialect
from sluiceway.sources.files.duckdb_errors import translate_csv
from sluiceway.sources.files.duckdb_scan import FileScan, checked_cast, connect, stream_scans
from sluiceway.sources.files.spec import FileSourceSpec
from sluiceway.sources.files.text_types import infer_text_types


class CsvSpec(FileSourceSpec):
    """Delimited text files, optionally gzip or zstd compressed."""

    type: Literal["csv"]
    delimiter: str | None = Field(
        None, description="Field separator; detected among `,` `;` tab `|` when unset."
    )
    quote: str | None = Field(None, description='Quote character; `"` when unset.')
    escape: str | None = Field(
        None, description='Escape character inside quotes; the quote itself (`""`) when unset.'
    )
    header: bool = Field(True, description="The first line names the columns.")
    encoding: str = Field("utf-8", description="utf-8, utf-16 or latin-1.")
    skip_rows: int = Field(0, ge=0, description="Lines to skip before the header.")
    null_values: list[str] = Field(
        default_factory=lambda: [""], description="Strings that mean NULL (unquoted)."
    )
    date_format: str | None = Field(
        None, description="strptime format of DATE columns, e.g. `%d/%m/%Y`; ISO when unset."
    )
    timestamp_format: str | None = Field(
        None, description="strptime format of TIMESTAMP columns; ISO when unset."
    )
    sample_size: int = Field(
        20_480, ge=-1, description="Rows sampled per file to infer types; -1 samples all."
    )

    @field_validator("delimiter", "quote", "escape")
    @classmethod
    def _single_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"must be one character, got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        key = value.lower()
        if key not in ENCODINGS:
            raise ValueError(f"unsupported encoding {value!r}; use utf-8, utf-16 or latin-1")
        return ENCODINGS[key]


@dataclass(frozen=True, slots=True)
class _FilePlan:
    path: Path
    display: str
    size: int
    params: dict[str, Any]
    header: list[str]
    types: dict[str, pa.DataType]
    estimated_rows: float | None


class CsvSource(Source[CsvSpec]):
    spec = CsvSpec

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        files = ctx.files(self.config.path)
        con = connect()
        try:
            plans = [self._plan(con, path, ctx) for path in files]
            schema, scans = self._unify(plans, ctx)
        except BaseException:
            con.close()
            raise
        declared = set(self.config.columns)
        sample = self.config.sample_size
        return stream_scans(
            scans,
            schema,
            ctx,
            translate=lambda exc, scan: translate_csv(
                exc, scan, declared=declared, sample_size=sample
            ),
            collect_rejects=_collect_rejects(ctx.settings.name),
            con=con,
        )

    def _plan(self, con: duckdb.DuckDBPyConnection, path: Path, ctx: ReadContext) -> _FilePlan:
        cfg = self.config
        display = ctx.display_path(path)
        size = path.stat().st_size
        if size == 0:
            raise MalformedInputError(
                "is empty (0 bytes)",
                location=Location(file=display),
                hint="A CSV file needs at least a header line. Remove the file or fix its export.",
            )
        kind = compression_.detect(path)
        head = compression_.read_head(path, kind)
        if not head.data.strip():
            raise MalformedInputError("is empty (no header line)", location=Location(file=display))
        dialect = detect_dialect(
            head.data,
            file=display,
            encoding=cfg.encoding,
            complete=head.complete,
            delimiter=cfg.delimiter,
            quote=cfg.quote,
            has_header=cfg.header,
            skip_rows=cfg.skip_rows,
        )
        params: dict[str, Any] = {
            "path": str(path),
            "delim": dialect.delimiter,
            "quote": dialect.quote,
            "escape": cfg.escape or dialect.quote,
            "header": cfg.header,
            "skip": cfg.skip_rows,
            "nullstr": cfg.null_values,
            "encoding": cfg.encoding,
            "compression": kind,
        }
        # The formats inference accepted must also be the ones DuckDB parses with.
        if cfg.date_format:
            params["date_format"] = cfg.date_format
        if cfg.timestamp_format:
            params["timestamp_format"] = cfg.timestamp_format
        header = dialect.header
        declared = self._declared_types(header, display)
        undeclared = [c for c in header if c not in declared]
        inferred: dict[str, str] = {}
        if undeclared:
            all_text = dict.fromkeys(header, "VARCHAR")
            inferred = infer_text_types(
                con,
                _read_csv_sql(params, ignore_errors=True),
                {**params, "columns": all_text},
                undeclared,
                sample_size=cfg.sample_size,
                date_format=cfg.date_format,
                timestamp_format=cfg.timestamp_format,
            )
        types = {
            column: declared[column] if column in declared else arrow_type(inferred[column])
            for column in header
        }
        return _FilePlan(
            path=path,
            display=display,
            size=size,
            params=params,
            header=header,
            types=types,
            estimated_rows=_estimate_rows(size, head, dialect),
        )

    def _declared_types(self, header: list[str], display: str) -> dict[str, pa.DataType]:
        declared = {name: arrow_type(parse_sql_type(t)) for name, t in self.config.columns.items()}
        unknown = [name for name in declared if name not in header]
        if unknown and not self.config.union_by_name:
            raise SchemaError(
                f"declared column(s) {', '.join(map(repr, unknown))} are not in the header "
                f"({', '.join(header)})",
                location=Location(file=display),
                hint="Check the names under `columns:`; they must match the header exactly.",
            )
        return {name: t for name, t in declared.items() if name in header}

    def _unify(self, plans: list[_FilePlan], ctx: ReadContext) -> tuple[pa.Schema, list[FileScan]]:
        first = plans[0]
        order = list(first.header)
        for plan in plans[1:]:
            missing = [c for c in order if c not in plan.types]
            extra = [c for c in plan.header if c not in first.types]
            if (missing or extra) and not self.config.union_by_name:
                raise SchemaError(
                    f"has a different header than {first.display}: "
                    + "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(missing)}" if missing else "",
                            f"new {', '.join(extra)}" if extra else "",
                        )
                        if part
                    ),
                    location=Location(file=plan.display),
                    hint="Files of one source must share their columns; set "
                    "`union_by_name: true` to load missing columns as NULL.",
                )
            order.extend(c for c in extra if c not in order)
        unified: dict[str, pa.DataType] = {}
        for plan in plans:
            for column, column_type in plan.types.items():
                if column in self.config.columns:
                    unified[column] = column_type
                elif column in unified:
                    unified[column] = promote(unified[column], column_type) or pa.string()
                else:
                    unified[column] = column_type
        scans = []
        for index, plan in enumerate(plans):
            own = {column: unified[column] for column in plan.header}
            # Integers and decimals are read as text and cast after a format check (no rounding).
            checked = {c: checked_cast(pa.string(), t) for c, t in own.items()}
            text_casts = {c: check for c, check in checked.items() if check is not None}
            read_types = {c: "VARCHAR" if c in text_casts else sql_type(t) for c, t in own.items()}
            params = {**plan.params, "columns": read_types}
            rejects = None
            if ctx.settings.on_bad_rows == "dlq":
                rejects = f"sluiceway_rejects_{index}"
                params["rejects_table"] = rejects
                params["rejects_scan"] = f"sluiceway_reject_scans_{index}"
            scans.append(
                FileScan(
                    path=plan.path,
                    display=plan.display,
                    function_sql=_read_csv_sql(params, store_rejects=rejects is not None),
                    params=params,
                    columns=own,
                    size=plan.size,
                    estimated_rows=plan.estimated_rows,
                    rejects_table=rejects,
                    text_casts=text_casts,
                )
            )
        fields = [pa.field(column, unified[column]) for column in order]
        if ctx.lineage:
            if SOURCE_COLUMN in unified:
                raise SourceError(f"the input already has a column named {SOURCE_COLUMN}")
            fields.append(pa.field(SOURCE_COLUMN, pa.string()))
        return pa.schema(fields), scans


def _read_csv_sql(
    params: dict[str, Any], *, ignore_errors: bool = False, store_rejects: bool = False
) -> str:
    options = [
        "auto_detect=false",
        "delim=$delim",
        "quote=$quote",
        "escape=$escape",
        "header=$header",
        "skip=$skip",
        "nullstr=$nullstr",
        "allow_quoted_nulls=false",  # `null_values` match unquoted text only: "" is a value
        "encoding=$encoding",
        "compression=$compression",
        "columns=$columns",
        "strict_mode=true",
    ]
    if "date_format" in params:
        options.append("dateformat=$date_format")
    if "timestamp_format" in params:
        options.append("timestampformat=$timestamp_format")
    if ignore_errors:
        options.append("ignore_errors=true")
    if store_rejects:
        options += ["store_rejects=true", "rejects_table=$rejects_table"]
        options.append("rejects_scan=$rejects_scan")
    return f"read_csv($path, {', '.join(options)})"


def _estimate_rows(size: int, head: compression_.Head, dialect: Dialect) -> float | None:
    if head.disk_bytes <= 0 or dialect.bytes_per_row <= 0:
        return None
    decompressed_per_disk_byte = len(head.data) / head.disk_bytes
    return size * decompressed_per_disk_byte / dialect.bytes_per_row


def _collect_rejects(source: str) -> Any:
    def collect(con: duckdb.DuckDBPyConnection, scan: FileScan) -> list[Reject]:
        table = scan.rejects_table
        assert table is not None
        rows = con.sql(
            "SELECT line, any_value(column_name), string_agg(error_message, '; '), "
            f"any_value(csv_line), any_value(error_type) FROM {table} "
            "GROUP BY line ORDER BY line"
        ).fetchall()
        con.execute(f"DROP TABLE IF EXISTS {table}")
        return [
            Reject(
                source=source,
                reason=_reason(str(error_type)),
                message=str(message),
                file=scan.display,
                line=int(line),
                column=None if column is None else str(column),
                raw=None if raw is None else json.dumps(str(raw)),  # the line, as a JSON string
            )
            for line, column, message, raw, error_type in rows
        ]

    return collect


def _reason(error_type: str) -> str:
    return "type_mismatch" if error_type == "CAST" else "malformed"

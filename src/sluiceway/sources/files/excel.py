"""Excel workbooks (.xlsx): one sheet per source, streamed row by row with openpyxl.

DuckDB cannot read Excel without an extension we cannot install here, so this source reads the
sheet in openpyxl's read-only (streaming) mode. Column types come from the cells' own types in a
sample of rows (int, float, bool, date, datetime, text), promoted to a common type per column;
a later cell that does not fit is a bad row reported with its sheet, row and column letter.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import Field

from sluiceway.core.errors import Location, MalformedInputError, SchemaError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_types import arrow_type, parse_sql_type
from sluiceway.schema.promotion import promote
from sluiceway.sources.base import ReadContext, Source
from sluiceway.sources.files.paths import expand
from sluiceway.sources.files.spec import FileSourceSpec


class ExcelSpec(FileSourceSpec):
    """Excel .xlsx workbooks; one sheet, a header row, data below it."""

    type: Literal["excel", "xlsx"]
    sheet: str | int = Field(0, description="Sheet name, or its position (0 = first).")
    header_row: int = Field(1, ge=1, description="The row (1-based) holding column names.")
    sample_size: int = Field(1_000, ge=1, description="Data rows sampled to infer column types.")


def _cell_type(value: Any) -> pa.DataType:
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, dt.datetime):
        return pa.timestamp("us")
    if isinstance(value, dt.date):
        return pa.date32()
    if isinstance(value, dt.time):
        return pa.time64("us")
    return pa.string()


class ExcelSource(Source[ExcelSpec]):
    spec = ExcelSpec

    def read(self, ctx: ReadContext) -> pa.RecordBatchReader:
        files = expand(self.config.path, ctx.resolve_path)
        plans = [self._plan(path, ctx) for path in files]
        header, types = plans[0][1], plans[0][2]
        for path, other_header, other_types in plans[1:]:
            if other_header != header:
                raise SchemaError(
                    f"has other columns than {ctx.display_path(files[0])}: {other_header}",
                    location=Location(file=ctx.display_path(path)),
                )
            for column in header:
                types[column] = promote(types[column], other_types[column]) or pa.string()
        fields = [
            pa.field(c, t if not pa.types.is_null(t) else pa.string()) for c, t in types.items()
        ]
        if ctx.lineage:
            if SOURCE_COLUMN in types:
                raise SourceError(f"the sheet already has a column named {SOURCE_COLUMN}")
            fields.append(pa.field(SOURCE_COLUMN, pa.string()))
        schema = pa.schema(fields)
        total = sum(path.stat().st_size for path in files)
        ctx.progress.expect(total, len(files))
        return pa.RecordBatchReader.from_batches(schema, self._batches(files, schema, ctx))

    def _open_sheet(self, path: Path, display: str) -> Any:
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise MalformedInputError(
                f"is not an Excel .xlsx workbook ({type(exc).__name__}: {exc})",
                location=Location(file=display),
                hint="Save it as .xlsx from Excel or LibreOffice; the old .xls format and CSV "
                "files renamed to .xlsx cannot be read as workbooks.",
            ) from exc
        names = workbook.sheetnames
        sheet = self.config.sheet
        if isinstance(sheet, int):
            if sheet >= len(names):
                workbook.close()
                raise SourceError(
                    f"has {len(names)} sheet(s), no sheet at position {sheet}",
                    location=Location(file=display),
                    hint=f"Sheets: {', '.join(names)}",
                )
            return workbook, workbook[names[sheet]]
        if sheet not in names:
            workbook.close()
            raise SourceError(
                f"has no sheet named {sheet!r}",
                location=Location(file=display),
                hint=f"Sheets: {', '.join(names)}",
            )
        return workbook, workbook[sheet]

    def _rows(self, sheet: Any) -> Iterator[tuple[Any, ...]]:
        yield from sheet.iter_rows(min_row=self.config.header_row, values_only=True)

    def _plan(self, path: Path, ctx: ReadContext) -> tuple[Path, list[str], dict[str, pa.DataType]]:
        display = ctx.display_path(path)
        workbook, sheet = self._open_sheet(path, display)
        try:
            rows = self._rows(sheet)
            first = next(rows, None)
            if first is None or all(v is None for v in first):
                raise MalformedInputError(
                    f"sheet {sheet.title!r} has no header in row {self.config.header_row}",
                    location=Location(file=display),
                )
            header = _header(first)
            types: dict[str, pa.DataType] = dict.fromkeys(header, pa.null())
            for count, row in enumerate(rows):
                if count >= self.config.sample_size:
                    break
                for column, value in zip(header, row, strict=False):
                    types[column] = promote(types[column], _cell_type(value)) or pa.string()
        finally:
            workbook.close()
        for name, declared in self.config.columns.items():
            if name not in types:
                raise SchemaError(
                    f"declared column {name!r} is not in the header ({', '.join(header)})",
                    location=Location(file=display),
                )
            types[name] = arrow_type(parse_sql_type(declared))
        return path, header, types

    def _batches(
        self, files: list[Path], schema: pa.Schema, ctx: ReadContext
    ) -> Iterator[pa.RecordBatch]:
        data_fields = [f for f in schema if f.name != SOURCE_COLUMN]
        done_bytes = 0
        for path in files:
            display = ctx.display_path(path)
            ctx.progress.file(display)
            workbook, sheet = self._open_sheet(path, display)
            try:
                total_rows = max(1, (sheet.max_row or 1) - self.config.header_row)
                rows = self._rows(sheet)
                next(rows, None)  # the header
                buffer: list[tuple[int, tuple[Any, ...]]] = []
                seen = 0
                for offset, row in enumerate(rows, start=self.config.header_row + 1):
                    if all(v is None for v in row):
                        continue  # trailing blank rows are formatting, not data
                    buffer.append((offset, row))
                    if len(buffer) >= ctx.batch_size:
                        seen += len(buffer)
                        yield self._batch(buffer, data_fields, schema, display, ctx)
                        buffer = []
                        size = path.stat().st_size
                        ctx.progress.consumed(done_bytes + int(size * min(0.99, seen / total_rows)))
                        ctx.cancel.check()
                if buffer:
                    yield self._batch(buffer, data_fields, schema, display, ctx)
            finally:
                workbook.close()
            done_bytes += path.stat().st_size
            ctx.progress.consumed(done_bytes)

    def _batch(
        self,
        rows: list[tuple[int, tuple[Any, ...]]],
        fields: list[pa.Field],
        schema: pa.Schema,
        display: str,
        ctx: ReadContext,
    ) -> pa.RecordBatch:
        width = len(fields)
        text = [pa.types.is_string(f.type) for f in fields]
        values = [_fit((tuple(row) + (None,) * width)[:width], text) for _, row in rows]
        try:
            arrays = _arrays(values, fields)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            # Slow path, only for a batch with a misfit: find and set aside the bad rows.
            good = []
            for (number, _), row_values in zip(rows, values, strict=True):
                problem = _first_misfit(row_values, fields)
                if problem is None:
                    good.append(row_values)
                else:
                    self._bad_row(
                        number,
                        values=row_values,
                        fields=fields,
                        problem=problem,
                        display=display,
                        ctx=ctx,
                    )
            values = good
            arrays = _arrays(values, fields)
        if SOURCE_COLUMN in schema.names:
            arrays.append(pa.array([display] * len(values), type=pa.string()))
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _bad_row(
        self,
        number: int,
        *,
        values: tuple[Any, ...],
        fields: list[pa.Field],
        problem: tuple[int, str],
        display: str,
        ctx: ReadContext,
    ) -> None:
        index, message = problem
        cell = f"cell {get_column_letter(index + 1)}{number}: {message}"
        column = fields[index].name
        if ctx.settings.on_bad_rows == "fail":
            raise MalformedInputError(
                cell,
                location=Location(file=display, line=number, column=column),
                hint="Fix the cell, declare the column's type in `columns:`, or set "
                "`on_bad_rows: dlq`.",
            )
        ctx.reject(
            Reject(
                source=ctx.settings.name,
                reason="type_mismatch",
                message=cell,
                file=display,
                line=number,
                column=column,
                raw=repr(values),
            )
        )


def _fit(values: tuple[Any, ...], text: list[bool]) -> tuple[Any, ...]:
    """Render non-text cells of text columns as text (a number in a column of names)."""
    return tuple(
        str(v) if is_text and v is not None and not isinstance(v, str) else v
        for v, is_text in zip(values, text, strict=True)
    )


def _arrays(values: list[tuple[Any, ...]], fields: list[pa.Field]) -> list[pa.Array]:
    return [pa.array([row[i] for row in values], type=f.type) for i, f in enumerate(fields)]


def _first_misfit(values: tuple[Any, ...], fields: list[pa.Field]) -> tuple[int, str] | None:
    for index, (value, field) in enumerate(zip(values, fields, strict=True)):
        if value is None:
            continue
        try:
            pa.array([value], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return index, f"{value!r} is not a valid {field.type}"
    return None


def _header(row: tuple[Any, ...]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(row):
        name = str(value).strip() if value is not None else f"column{index}"
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name}_{seen[key]}"
        else:
            seen[key] = 0
        names.append(name)
    return names

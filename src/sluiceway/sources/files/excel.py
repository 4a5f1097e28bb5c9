"""Excel workbooks (.xlsx): one sheet per source, streamed row by row with openpyxl.

DuckDB cannot read Excel without an extension we cannot install here, so this source reads the
sheet in openpyxl's read-only (streaming) mode. Column types come from the cells' own types in a
sample of rows (int, float, bool, date, datetime, text), promoted to a common type per column;
a later cell that does not fit is a bad row reported with its sheet, row and column letter.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from sluiceway.core.errors import Location, MalformedInputError, SchemaError, SourceError
from sluiceway.core.names import SOURCE_COLUMN
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_types import arrow_type, parse_sql_type
from sluiceway.schema.promotion import promote
from sluiceway.sources.base import ReadContext, Source
from sluiceway.sources.files.headers import column_names
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
        files = ctx.files(self.config.path)
        plans = [self._plan(path, ctx) for path in files]
        header, types = plans[0][1], plans[0][2]
        for path, other_header, other_types in plans[1:]:
            if other_header != header and not self.config.union_by_name:
                raise SchemaError(
                    f"has other columns than {ctx.display_path(files[0])}: {other_header}",
                    location=Location(file=ctx.display_path(path)),
                    hint="Set `union_by_name: true` to load missing columns as NULL.",
                )
            for column, column_type in other_types.items():
                common = promote(types[column], column_type) if column in types else column_type
                types[column] = common or pa.string()
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
        # openpyxl takes a third of a second to import; only pipelines with Excel pay for it.
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

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
            header = column_names(first)
            types: dict[str, pa.DataType] = dict.fromkeys(header, pa.null())
            for count, row in enumerate(rows):
                if count >= self.config.sample_size:
                    break
                for column, value in zip(header, row, strict=False):
                    types[column] = promote(types[column], _cell_type(value)) or pa.string()
        finally:
            workbook.close()
        for name, declared in self.config.columns.items():
            if name not in types and self.config.union_by_name:
                continue  # another file may have it
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
            ctx.cancel.check()
            display = ctx.display_path(path)
            ctx.progress.file(display)
            workbook, sheet = self._open_sheet(path, display)
            try:
                total_rows = max(1, (sheet.max_row or 1) - self.config.header_row)
                rows = self._rows(sheet)
                # Cells are picked by name: with union_by_name, files may order columns apart.
                where = {name: i for i, name in enumerate(column_names(next(rows, ())))}
                positions = [where.get(f.name) for f in data_fields]
                buffer: list[tuple[int, tuple[Any, ...]]] = []
                seen = 0
                for offset, row in enumerate(rows, start=self.config.header_row + 1):
                    if all(v is None for v in row):
                        continue  # trailing blank rows are formatting, not data
                    buffer.append((offset, _pick(row, positions)))
                    if len(buffer) >= ctx.batch_size:
                        seen += len(buffer)
                        yield self._batch(
                            buffer, data_fields, schema, display, ctx, positions=positions
                        )
                        buffer = []
                        size = path.stat().st_size
                        ctx.progress.consumed(done_bytes + int(size * min(0.99, seen / total_rows)))
                        ctx.cancel.check()
                if buffer:
                    yield self._batch(
                        buffer, data_fields, schema, display, ctx, positions=positions
                    )
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
        *,
        positions: list[int | None],
    ) -> pa.RecordBatch:
        types = [f.type for f in fields]
        try:
            values = [_fit(row, types) for _, row in rows]
            arrays = _arrays(values, fields)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            # Slow path, only for a batch with a misfit: find and set aside the bad rows.
            values = []
            for number, row_values in rows:
                problem = _first_misfit(row_values, fields)
                if problem is None:
                    values.append(_fit(row_values, types))
                else:
                    self._bad_row(
                        number,
                        values=row_values,
                        fields=fields,
                        problem=problem,
                        display=display,
                        ctx=ctx,
                        position=positions[problem[0]],
                    )
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
        position: int | None,
    ) -> None:
        from openpyxl.utils import get_column_letter

        index, message = problem
        cell = f"cell {get_column_letter((index if position is None else position) + 1)}{number}"
        cell += f": {message}"
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
                raw=json.dumps(
                    {f.name: v for f, v in zip(fields, values, strict=False)}, default=str
                ),
            )
        )


def _pick(row: tuple[Any, ...], positions: list[int | None]) -> tuple[Any, ...]:
    """The cells of ``row`` in schema order; a column this file lacks (or a short row) is None."""
    return tuple(row[i] if i is not None and i < len(row) else None for i in positions)


def _fit(values: tuple[Any, ...], types: list[pa.DataType]) -> tuple[Any, ...]:
    return tuple(_fit_cell(v, t) for v, t in zip(values, types, strict=True))


def _fit_cell(value: Any, column_type: pa.DataType) -> Any:
    """A cell as its column's type takes it, or ValueError when it does not fit exactly.

    Non-text cells of text columns become their text (a number in a column of names). Float
    cells are checked for integer and decimal columns: pyarrow would truncate 12.5 into 12 and
    refuses floats for decimals, where Excel stores every number as a float.
    """
    if value is None:
        return None
    if pa.types.is_string(column_type):
        return value if isinstance(value, str) else str(value)
    if isinstance(value, float) and pa.types.is_integer(column_type):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    if isinstance(value, float) and pa.types.is_decimal(column_type):
        return decimal.Decimal(repr(value))  # the shortest text that reads back as the float
    return value


def _arrays(values: list[tuple[Any, ...]], fields: list[pa.Field]) -> list[pa.Array]:
    return [pa.array([row[i] for row in values], type=f.type) for i, f in enumerate(fields)]


def _first_misfit(values: tuple[Any, ...], fields: list[pa.Field]) -> tuple[int, str] | None:
    for index, (value, field) in enumerate(zip(values, fields, strict=True)):
        if value is None:
            continue
        try:
            pa.array([_fit_cell(value, field.type)], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return index, f"{value!r} is not a valid {field.type}"
    return None

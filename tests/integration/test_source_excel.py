"""The Excel source on real .xlsx workbooks: sheets, header rows, cell types and bad files."""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import Workbook

from sluiceway.core.errors import MalformedInputError, SchemaError, SourceError
from sluiceway.sources.base import ReadContext
from sluiceway.sources.files.excel import ExcelSource, ExcelSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration


def _source(path: str | list[str], **options: Any) -> ExcelSource:
    return ExcelSource(ExcelSpec(type="excel", path=path, **options))


def _read(
    root: Path, path: str | list[str], ctx: ReadContext | None = None, **options: Any
) -> pa.Table:
    with _source(path, **options).read(ctx or _ctx(root)) as reader:
        return reader.read_all()


def _workbook(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> None:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)


ORDERS: list[list[Any]] = [
    ["Orders export"],
    [],
    ["id", "amount", "ordered_at", "day", "customer", "paid"],
    [1, 10, dt.datetime(2024, 1, 2, 3, 4, 5), dt.date(2024, 1, 2), "ann", True],
    [2, 2.5, dt.datetime(2024, 1, 3), dt.date(2024, 1, 3), 42, False],
    [3, None, None, None, None, None],
    [],
    [],
]


@pytest.mark.parametrize("sheet", ["Orders", 1])
def test_a_sheet_by_name_or_position_with_a_header_row(tmp_path: Path, sheet: str | int) -> None:
    _workbook(tmp_path / "book.xlsx", {"Summary": [["total"], [3]], "Orders": ORDERS})
    table = _read(tmp_path, "book.xlsx", sheet=sheet, header_row=3)
    # A date cell is a number with a date format: openpyxl hands it over as a datetime.
    assert table.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("amount", pa.float64()),  # int and float cells: double
            ("ordered_at", pa.timestamp("us")),
            ("day", pa.timestamp("us")),
            ("customer", pa.string()),  # a number in a text column: its text
            ("paid", pa.bool_()),
        ]
    )
    assert table.to_pylist() == [
        {
            "id": 1,
            "amount": 10.0,
            "ordered_at": dt.datetime(2024, 1, 2, 3, 4, 5),
            "day": dt.datetime(2024, 1, 2),
            "customer": "ann",
            "paid": True,
        },
        {
            "id": 2,
            "amount": 2.5,
            "ordered_at": dt.datetime(2024, 1, 3),
            "day": dt.datetime(2024, 1, 3),
            "customer": "42",
            "paid": False,
        },
        {"id": 3, "amount": None, "ordered_at": None, "day": None, "customer": None, "paid": None},
    ]


def test_the_first_sheet_and_row_by_default(tmp_path: Path) -> None:
    _workbook(tmp_path / "book.xlsx", {"First": [["a", "b"], [1, "x"]], "Second": [["c"], [2]]})
    assert _read(tmp_path, "book.xlsx").to_pylist() == [{"a": 1, "b": "x"}]


def test_declared_types_and_header_names(tmp_path: Path) -> None:
    _workbook(tmp_path / "book.xlsx", {"S": [["code", None, "code"], [1, 2, 3]]})
    table = _read(tmp_path, "book.xlsx", columns={"code": "VARCHAR"})
    assert table.schema == pa.schema(
        [("code", pa.string()), ("column1", pa.int64()), ("code_1", pa.int64())]
    )
    assert table.to_pylist() == [{"code": "1", "column1": 2, "code_1": 3}]


@pytest.mark.parametrize(("late", "shown"), [("abc", "'abc'"), (2.5, "2.5")])
def test_a_cell_that_does_not_fit_after_the_sample(
    tmp_path: Path, late: object, shown: str
) -> None:
    rows: list[list[Any]] = [["id", "n"], *([i, i] for i in range(20)), [20, late], [21, 21]]
    _workbook(tmp_path / "book.xlsx", {"S": rows})
    with (
        _source("book.xlsx", sample_size=5).read(_ctx(tmp_path)) as reader,
        pytest.raises(MalformedInputError) as caught,
    ):
        reader.read_all()
    assert str(caught.value).startswith(f"book.xlsx:22, column 'n': cell B22: {shown} is not")

    ctx = _ctx(tmp_path, on_bad_rows="dlq", batch_size=7)
    table = _read(tmp_path, "book.xlsx", ctx, sample_size=5)
    assert table.column("id").to_pylist() == [*range(20), 21]
    (reject,) = ctx.rejects
    assert (reject.reason, reject.file, reject.line, reject.column) == (
        "type_mismatch",
        "book.xlsx",
        22,
        "n",
    )
    assert reject.raw is not None
    assert json.loads(reject.raw) == {"id": 20, "n": late}  # the row, as a JSON object


def test_workbooks_of_a_glob_with_lineage_and_promotion(tmp_path: Path) -> None:
    _workbook(tmp_path / "a.xlsx", {"S": [["id", "v"], [1, 1]]})
    _workbook(tmp_path / "b.xlsx", {"S": [["id", "v"], [2, 2.5]]})
    table = _read(tmp_path, "*.xlsx", _ctx(tmp_path, lineage=True))
    assert table.to_pylist() == [
        {"id": 1, "v": 1.0, "_sluiceway_source": "a.xlsx"},
        {"id": 2, "v": 2.5, "_sluiceway_source": "b.xlsx"},
    ]


def test_a_workbook_with_other_columns_unless_union_by_name(tmp_path: Path) -> None:
    _workbook(tmp_path / "a.xlsx", {"S": [["id", "name"], [1, "x"]]})
    _workbook(tmp_path / "b.xlsx", {"S": [["title", "id"], ["y", 2]]})
    with pytest.raises(SchemaError) as caught:
        _source("*.xlsx").read(_ctx(tmp_path))
    assert str(caught.value).startswith("b.xlsx: has other columns than a.xlsx")
    assert _read(tmp_path, "*.xlsx", union_by_name=True).to_pylist() == [
        {"id": 1, "name": "x", "title": None},
        {"id": 2, "name": None, "title": "y"},
    ]


def _write_zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_text("id,name\n1,a\n"),  # a CSV renamed
        lambda p: p.write_bytes(os.urandom(4096)),
        lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096),  # old .xls
        lambda p: p.write_bytes(b""),
        _write_zip_without_workbook,
    ],
    ids=["csv", "random", "xls-signature", "empty", "zip"],
)
def test_a_file_that_is_not_a_workbook_fails_before_any_row(tmp_path: Path, make: Any) -> None:
    _workbook(tmp_path / "a_good.xlsx", {"S": [["id"], [1]]})
    make(tmp_path / "book.xlsx")
    with pytest.raises(MalformedInputError) as caught:
        _source("*.xlsx").read(_ctx(tmp_path))
    assert str(caught.value).startswith("book.xlsx: is not an Excel .xlsx workbook")


def test_an_old_xls_file(tmp_path: Path) -> None:
    (tmp_path / "book.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    with pytest.raises(MalformedInputError) as caught:
        _source("book.xls").read(_ctx(tmp_path))
    assert str(caught.value).startswith("book.xls: is not an Excel .xlsx workbook")
    assert ".xls" in str(caught.value)


@pytest.mark.parametrize(
    ("sheet", "message"),
    [("Missing", "has no sheet named 'Missing'"), (2, "has 2 sheet(s), no sheet at position 2")],
)
def test_a_sheet_that_does_not_exist_lists_the_sheets(
    tmp_path: Path, sheet: str | int, message: str
) -> None:
    _workbook(tmp_path / "book.xlsx", {"Summary": [["a"]], "Orders": [["b"]]})
    with pytest.raises(SourceError) as caught:
        _source("book.xlsx", sheet=sheet).read(_ctx(tmp_path))
    assert str(caught.value) == f"book.xlsx: {message}\nSheets: Summary, Orders"


def test_an_empty_header_row(tmp_path: Path) -> None:
    _workbook(tmp_path / "book.xlsx", {"S": [["a"], [1]]})
    with pytest.raises(MalformedInputError) as caught:
        _source("book.xlsx", header_row=5).read(_ctx(tmp_path))
    assert str(caught.value).startswith("book.xlsx: sheet 'S' has no header in row 5")


def test_a_declared_column_missing_from_the_header(tmp_path: Path) -> None:
    _workbook(tmp_path / "book.xlsx", {"S": [["a"], [1]]})
    with pytest.raises(SchemaError) as caught:
        _source("book.xlsx", columns={"price": "DOUBLE"}).read(_ctx(tmp_path))
    assert str(caught.value).startswith("book.xlsx: declared column 'price' is not in the header")


def test_numbers_into_declared_integer_and_decimal_columns_are_exact(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["id", "qty", "price"], [1, 2.0, 10.5], [2, 3, 1.234], [3, 2.5, 7]]
    _workbook(tmp_path / "book.xlsx", {"S": rows})
    columns = {"qty": "BIGINT", "price": "DECIMAL(10,2)"}
    ctx = _ctx(tmp_path, on_bad_rows="dlq")
    table = _read(tmp_path, "book.xlsx", ctx, columns=columns)
    assert table.schema == pa.schema(
        [("id", pa.int64()), ("qty", pa.int64()), ("price", pa.decimal128(10, 2))]
    )
    assert [(r["id"], r["qty"], str(r["price"])) for r in table.to_pylist()] == [(1, 2, "10.50")]
    assert [(r.line, r.column, r.message) for r in ctx.rejects] == [
        (3, "price", "cell C3: 1.234 is not a valid decimal128(10, 2)"),
        (4, "qty", "cell B4: 2.5 is not a valid int64"),
    ]

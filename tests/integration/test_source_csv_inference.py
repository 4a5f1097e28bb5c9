"""CSV type inference (``text_types.py``): the rules a data engineer relies on, one by one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from sluiceway.sources.files.csv import CsvSource, CsvSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration

UTC = dt.UTC


def _column(root: Path, values: list[str], **options: Any) -> tuple[pa.DataType, list[Any]]:
    """Infer the type of a one-column CSV holding ``values``; its type and loaded values."""
    (root / "f.csv").write_text("v,k\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)))
    with CsvSource(CsvSpec(type="csv", path="f.csv", **options)).read(_ctx(root)) as reader:
        table = reader.read_all()
    assert table.column("k").to_pylist() == list(range(len(values)))
    return table.schema.field("v").type, table.column("v").to_pylist()


@pytest.mark.parametrize(
    ("values", "expected_type", "expected"),
    [
        # integers, written as integers
        (["1", "-2", "+3", "0"], pa.int64(), [1, -2, 3, 0]),
        (["123456789012345678"], pa.int64(), [123456789012345678]),
        # one decimal point makes the column DOUBLE, never rounded into an integer
        (["1", "12.5"], pa.float64(), [1.0, 12.5]),
        (["1e3", ".5", "-2."], pa.float64(), [1000.0, 0.5, -2.0]),
        # codes with a leading zero keep their zeros
        (["02134", "10001"], pa.string(), ["02134", "10001"]),
        (["0.5", "007.5"], pa.string(), ["0.5", "007.5"]),
        # integers too long for BIGINT or for a DOUBLE's precision stay text
        (["12345678901234567890"], pa.string(), ["12345678901234567890"]),
        (["1234567890123456789012345"], pa.string(), ["1234567890123456789012345"]),
        # not integers, whatever DuckDB's cast accepts
        (["0x1F", "1_000"], pa.string(), ["0x1F", "1_000"]),
        # booleans only from true/false, in any case
        (["true", "FALSE", "True"], pa.bool_(), [True, False, True]),
        (["0", "1"], pa.int64(), [0, 1]),
        (["Y", "N"], pa.string(), ["Y", "N"]),
        (["yes", "no"], pa.string(), ["yes", "no"]),
        # ISO dates and timestamps
        (["2024-01-31", "2024-02-29"], pa.date32(), [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]),
        (["2024-02-30"], pa.string(), ["2024-02-30"]),
        (
            ["2024-01-31 10:00:00", "2024-01-31T23:59:59.5", "2024-02-01 08:30"],
            pa.timestamp("us"),
            [
                dt.datetime(2024, 1, 31, 10),
                dt.datetime(2024, 1, 31, 23, 59, 59, 500_000),
                dt.datetime(2024, 2, 1, 8, 30),
            ],
        ),
        # every value with a zone offset: an instant, loaded in UTC
        (
            ["2024-01-31T10:00:00+02:00", "2024-01-31 10:00:00Z", "2024-06-01 12:00:00-0500"],
            pa.timestamp("us", tz="UTC"),
            [
                dt.datetime(2024, 1, 31, 8, tzinfo=UTC),
                dt.datetime(2024, 1, 31, 10, tzinfo=UTC),
                dt.datetime(2024, 6, 1, 17, tzinfo=UTC),
            ],
        ),
        # some with a zone and some without: which zone was meant is unknown
        (
            ["2024-01-31T10:00:00+02:00", "2024-01-31 10:00:00"],
            pa.string(),
            ["2024-01-31T10:00:00+02:00", "2024-01-31 10:00:00"],
        ),
        # dates and timestamps mixed: neither type holds both texts
        (
            ["2024-01-31", "2024-01-31 10:00:00"],
            pa.string(),
            ["2024-01-31", "2024-01-31 10:00:00"],
        ),
        # empty values are NULL and do not vote; a column with no value at all stays text
        (["", "7", ""], pa.int64(), [None, 7, None]),
        (["", "", ""], pa.string(), [None, None, None]),
        (["1", "x"], pa.string(), ["1", "x"]),
    ],
)
def test_inferred_type(
    tmp_path: Path, values: list[str], expected_type: pa.DataType, expected: list[Any]
) -> None:
    column_type, loaded = _column(tmp_path, values)
    assert column_type == expected_type
    assert loaded == expected


def test_date_format_makes_dates_of_its_text(tmp_path: Path) -> None:
    values = ["31/01/2024", "29/02/2024"]
    assert _column(tmp_path, values, date_format="%d/%m/%Y") == (
        pa.date32(),
        [dt.date(2024, 1, 31), dt.date(2024, 2, 29)],
    )
    assert _column(tmp_path, values) == (pa.string(), values)


def test_inference_samples_only_sample_size_rows(tmp_path: Path) -> None:
    """Types come from the sample; with -1 every row votes."""
    values = [str(i) for i in range(50)] + ["x"]
    assert _column(tmp_path, values, sample_size=-1) == (pa.string(), values)


def test_each_file_of_a_glob_votes_and_types_are_promoted(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("v,w\n1,2024-01-01\n")
    (tmp_path / "b.csv").write_text("v,w\n2.5,2024-01-02 10:00:00\n")
    (tmp_path / "c.csv").write_text("v,w\n3,x\n")
    source = CsvSource(CsvSpec(type="csv", path="*.csv"))
    with source.read(_ctx(tmp_path)) as reader:
        table = reader.read_all()
    assert table.schema == pa.schema([("v", pa.float64()), ("w", pa.string())])
    assert table.to_pylist() == [
        {"v": 1.0, "w": "2024-01-01"},
        {"v": 2.5, "w": "2024-01-02 10:00:00"},
        {"v": 3.0, "w": "x"},
    ]

"""The Parquet source on real files: types from the footer, promotion across files, bad files."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluiceway.core.errors import MalformedInputError, SchemaError
from sluiceway.sources.files.parquet import ParquetSource, ParquetSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration


def _source(path: str | list[str], **options: Any) -> ParquetSource:
    return ParquetSource(ParquetSpec(type="parquet", path=path, **options))


def _read(root: Path, path: str | list[str], *, lineage: bool = False, **options: Any) -> pa.Table:
    with _source(path, **options).read(_ctx(root, lineage=lineage)) as reader:
        return reader.read_all()


def test_column_types_and_values_come_through(tmp_path: Path) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    table = pa.table(
        {
            "i32": pa.array([1, None], pa.int32()),
            "u32": pa.array([4_000_000_000, 0], pa.uint32()),
            "f": pa.array([1.5, -0.25], pa.float64()),
            "ok": pa.array([True, False]),
            "amount": pa.array([decimal.Decimal("12.34"), None], pa.decimal128(10, 2)),
            "day": pa.array([dt.date(2024, 1, 31), dt.date(1999, 12, 31)]),
            "at": pa.array([dt.datetime(2024, 1, 31, 10, 0, 0, 123456), None], pa.timestamp("us")),
            "at_tz": pa.array(
                [
                    dt.datetime(2024, 1, 31, 10, tzinfo=paris),
                    dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "big_text": pa.array(["a", "b"], pa.large_string()),
            "category": pa.array(["x", "x"]).dictionary_encode(),
            "blob": pa.array([b"\x00\x01", b""]),
            "tags": pa.array([[1, 2], []], pa.list_(pa.int64())),
            "point": pa.array([{"x": 1.0, "y": "a"}, None]),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    loaded = _read(tmp_path, "t.parquet")
    assert loaded.schema == pa.schema(
        [
            ("i32", pa.int32()),
            ("u32", pa.uint32()),
            ("f", pa.float64()),
            ("ok", pa.bool_()),
            ("amount", pa.decimal128(10, 2)),
            ("day", pa.date32()),
            ("at", pa.timestamp("us")),
            ("at_tz", pa.timestamp("us", tz="UTC")),
            ("big_text", pa.string()),
            ("category", pa.string()),
            ("blob", pa.binary()),
            ("tags", pa.list_(pa.int64())),
            ("point", pa.struct([("x", pa.float64()), ("y", pa.string())])),
        ]
    )
    assert loaded.to_pylist() == table.cast(loaded.schema).to_pylist()
    assert loaded.column("at_tz")[0].as_py() == dt.datetime(2024, 1, 31, 9, tzinfo=dt.UTC)


def test_nanosecond_timestamps_keep_their_precision(tmp_path: Path) -> None:
    values = pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns"))
    pq.write_table(pa.table({"at": values}), tmp_path / "ns.parquet")
    loaded = _read(tmp_path, "ns.parquet")
    assert loaded.schema.field("at").type == pa.timestamp("ns")
    assert loaded.column("at").combine_chunks().equals(values)


def test_files_with_int32_and_int64_are_promoted(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"n": pa.array([1, 2], pa.int32()), "s": ["a", "b"]}), tmp_path / "a.parquet"
    )
    pq.write_table(
        pa.table({"n": pa.array([2**40], pa.int64()), "s": ["c"]}), tmp_path / "b.parquet"
    )
    loaded = _read(tmp_path, "*.parquet", lineage=True)
    assert loaded.schema == pa.schema(
        [("n", pa.int64()), ("s", pa.string()), ("_sluiceway_source", pa.string())]
    )
    assert loaded.to_pylist() == [
        {"n": 1, "s": "a", "_sluiceway_source": "a.parquet"},
        {"n": 2, "s": "b", "_sluiceway_source": "a.parquet"},
        {"n": 2**40, "s": "c", "_sluiceway_source": "b.parquet"},
    ]


def test_files_whose_column_types_have_no_common_type(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"n": [{"x": 1}]}), tmp_path / "b.parquet")
    with pytest.raises(SchemaError) as caught:
        _source("*.parquet").read(_ctx(tmp_path))
    assert str(caught.value).startswith("b.parquet, column 'n': column 'n' is struct<x: int64>")


def test_a_declared_type_wins(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": pa.array([1, 2], pa.int16())}), tmp_path / "a.parquet")
    loaded = _read(tmp_path, "a.parquet", columns={"n": "DOUBLE"})
    assert loaded.schema == pa.schema([("n", pa.float64())])
    assert loaded.column("n").to_pylist() == [1.0, 2.0]


def test_a_declared_column_that_is_in_no_file(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": [1]}), tmp_path / "a.parquet")
    with pytest.raises(SchemaError) as caught:
        _source("a.parquet", columns={"price": "DOUBLE"}).read(_ctx(tmp_path))
    assert str(caught.value).startswith("a.parquet: declared column(s) ['price']")


def test_a_file_with_other_columns_is_named_unless_union_by_name(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1], "name": ["a"]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"title": ["b"], "id": [2]}), tmp_path / "b.parquet")
    with pytest.raises(SchemaError) as caught:
        _source("*.parquet").read(_ctx(tmp_path))
    assert str(caught.value).startswith("b.parquet: has other columns than a.parquet")
    assert _read(tmp_path, "*.parquet", union_by_name=True).to_pylist() == [
        {"id": 1, "name": "a", "title": None},
        {"id": 2, "name": None, "title": "b"},
    ]


def _truncated(root: Path) -> None:
    pq.write_table(pa.table({"n": list(range(1000))}), root / "f.parquet")
    data = (root / "f.parquet").read_bytes()
    (root / "f.parquet").write_bytes(data[: len(data) * 2 // 3])


@pytest.mark.parametrize(
    "make",
    [
        _truncated,
        lambda root: (root / "f.parquet").write_text("a,b\n1,2\n"),
        lambda root: (root / "f.parquet").write_bytes(b""),
        lambda root: (root / "f.parquet").write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1"),
    ],
    ids=["truncated", "csv-named-parquet", "empty", "bad-footer"],
)
def test_a_file_that_is_not_parquet_fails_before_any_row(tmp_path: Path, make: Any) -> None:
    pq.write_table(pa.table({"n": [1]}), tmp_path / "a_good.parquet")
    make(tmp_path)
    # the good file sorts first: the error comes while planning, before its rows are read
    with pytest.raises(MalformedInputError) as caught:
        _source("*.parquet").read(_ctx(tmp_path))
    assert str(caught.value).startswith("f.parquet: is not a Parquet file, or it is truncated")

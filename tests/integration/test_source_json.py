"""The JSON source on real files: arrays, NDJSON, nesting, compression and strictness."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zstandard

from sluiceway.core.errors import MalformedInputError, SchemaError
from sluiceway.sources.files.json import JsonSource, JsonSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration

RECORDS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "ann",
        "price": 1.5,
        "paid": True,
        "day": "2024-01-31",
        "address": {"city": "Lyon", "zip": "69001"},
        "tags": ["a", "b"],
    },
    {
        "id": 2,
        "name": None,
        "price": 2,
        "paid": False,
        "day": "2024-02-29",
        "address": {"city": "Nice", "zip": "06000"},
        "tags": [],
    },
]
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("price", pa.float64()),
        ("paid", pa.bool_()),
        ("day", pa.date32()),
        ("address", pa.struct([("city", pa.string()), ("zip", pa.string())])),
        ("tags", pa.list_(pa.string())),
    ]
)
LOADED = [
    {**RECORDS[0], "day": dt.date(2024, 1, 31)},
    {**RECORDS[1], "price": 2.0, "day": dt.date(2024, 2, 29)},
]


def _read(root: Path, path: str | list[str], kind: str = "json", **options: Any) -> pa.Table:
    spec = JsonSpec(type="ndjson" if kind == "ndjson" else "json", path=path, **options)
    with JsonSource(spec).read(_ctx(root)) as reader:
        return reader.read_all()


def _ndjson(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("json", json.dumps(RECORDS, indent=2)),  # an array, pretty-printed
        ("json", _ndjson(RECORDS)),  # `json` detects one object per line
        ("ndjson", _ndjson(RECORDS)),
    ],
)
def test_records_read_with_nested_objects_as_structs(tmp_path: Path, kind: str, text: str) -> None:
    (tmp_path / "f.json").write_text(text)
    table = _read(tmp_path, "f.json", kind)
    assert table.schema == SCHEMA
    assert table.to_pylist() == LOADED


@pytest.mark.parametrize(
    ("name", "compress"),
    [("f.json.gz", gzip.compress), ("f.json.zst", zstandard.ZstdCompressor().compress)],
)
def test_compressed_json(tmp_path: Path, name: str, compress: Any) -> None:
    (tmp_path / name).write_bytes(compress(_ndjson(RECORDS).encode()))
    assert _read(tmp_path, name, "ndjson").to_pylist() == LOADED


def test_declared_columns_win_and_a_declared_absent_key_loads_as_null(tmp_path: Path) -> None:
    (tmp_path / "f.ndjson").write_text('{"id": "7", "v": 1}\n{"id": "8", "v": 2}\n')
    table = _read(tmp_path, "f.ndjson", "ndjson", columns={"id": "BIGINT", "note": "VARCHAR"})
    assert table.schema == pa.schema([("id", pa.int64()), ("v", pa.int64()), ("note", pa.string())])
    assert table.to_pylist() == [{"id": 7, "v": 1, "note": None}, {"id": 8, "v": 2, "note": None}]


def test_files_of_a_glob_are_promoted_to_a_common_type(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_text('{"n": 1, "s": {"x": 1}}\n')
    (tmp_path / "b.ndjson").write_text('{"n": 1.5, "s": {"x": 2.5, "y": "z"}}\n')
    table = _read(tmp_path, "*.ndjson", "ndjson")
    assert table.schema == pa.schema(
        [("n", pa.float64()), ("s", pa.struct([("x", pa.float64()), ("y", pa.string())]))]
    )
    assert table.to_pylist() == [
        {"n": 1.0, "s": {"x": 1.0, "y": None}},
        {"n": 1.5, "s": {"x": 2.5, "y": "z"}},
    ]


def test_a_key_first_seen_after_the_sample_is_an_error_not_a_dropped_field(
    tmp_path: Path,
) -> None:
    records = [{"id": i} for i in range(10)] + [{"id": 10, "late": "x"}]
    (tmp_path / "f.ndjson").write_text(_ndjson(records))
    spec = JsonSpec(type="ndjson", path="f.ndjson", sample_size=5)
    with JsonSource(spec).read(_ctx(tmp_path)) as reader, pytest.raises(MalformedInputError) as e:
        reader.read_all()
    assert str(e.value).startswith("f.ndjson:11: key 'late' appears after the records sampled")
    # with every record sampled the key is a column
    table = _read(tmp_path, "f.ndjson", "ndjson", sample_size=-1)
    assert table.column("late").to_pylist() == [None] * 10 + ["x"]


def test_a_late_value_that_does_not_fit_names_file_and_line(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [{"id": i} for i in range(10)] + [{"id": "abc"}]
    (tmp_path / "f.ndjson").write_text(_ndjson(records))
    spec = JsonSpec(type="ndjson", path="f.ndjson", sample_size=5)
    with JsonSource(spec).read(_ctx(tmp_path)) as reader, pytest.raises(MalformedInputError) as e:
        reader.read_all()
    assert str(e.value).startswith("f.ndjson:11: a value does not fit its column")
    assert "abc" in str(e.value)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b'{"id": 1}\n{"id": 2}\n{"id": 3 "x": 4}\n{"id": 5}\n', 3),
        (b'{"id": "caf\xe9"}\n{"id": "ok"}\n', 1),
        (b'{"id": "ok"}\n{"id": "caf\xe9"}\n', 2),
    ],
)
def test_malformed_json_is_an_error_naming_file_and_line(
    tmp_path: Path, data: bytes, line: int
) -> None:
    (tmp_path / "f.ndjson").write_bytes(data)
    with pytest.raises(MalformedInputError) as caught:
        JsonSource(JsonSpec(type="ndjson", path="f.ndjson")).read(_ctx(tmp_path))
    assert str(caught.value).startswith(f"f.ndjson:{line}: malformed JSON")


@pytest.mark.parametrize(
    "data", [b"", b"  \n", gzip.compress(b"", mtime=0)], ids=["zero-bytes", "blank", "empty-gzip"]
)
def test_an_empty_file_is_an_error_before_any_row(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "a_good.json").write_text('[{"id": 1}]')
    (tmp_path / "f.json").write_bytes(data)
    with pytest.raises(MalformedInputError) as caught:
        JsonSource(JsonSpec(type="json", path="*.json")).read(_ctx(tmp_path))
    assert str(caught.value).startswith("f.json: is empty")


def test_a_file_with_other_keys_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_text('{"id": 1, "name": "x"}\n')
    (tmp_path / "b.ndjson").write_text('{"id": 2, "title": "y"}\n')
    spec = JsonSpec(type="ndjson", path="*.ndjson")
    with pytest.raises(SchemaError) as caught:
        JsonSource(spec).read(_ctx(tmp_path))
    assert str(caught.value).startswith("b.ndjson: ")
    assert "a.ndjson" in str(caught.value)

    table = _read(tmp_path, "*.ndjson", "ndjson", union_by_name=True)
    assert table.to_pylist() == [
        {"id": 1, "name": "x", "title": None},
        {"id": 2, "name": None, "title": "y"},
    ]


def test_an_object_in_one_file_and_text_in_another_load_as_json_text(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_text('{"v": {"a": 1, "b": [1, 2]}}\n{"v": null}\n')
    (tmp_path / "b.ndjson").write_text('{"v": "plain"}\n')
    table = _read(tmp_path, "*.ndjson", "ndjson")
    assert table.schema == pa.schema([("v", pa.string())])
    values = table.column("v").to_pylist()
    assert json.loads(values[0]) == {"a": 1, "b": [1, 2]}
    assert values[1:] == [None, "plain"]

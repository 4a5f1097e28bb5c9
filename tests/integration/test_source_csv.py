"""The CSV source on real files: dialects, encodings, compression, quoting and header options."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zstandard

from sluiceway.sources.files.csv import CsvSource, CsvSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration


def _read(root: Path, path: str, **options: Any) -> pa.Table:
    with CsvSource(CsvSpec(type="csv", path=path, **options)).read(_ctx(root)) as reader:
        return reader.read_all()


def _write(root: Path, name: str, data: str | bytes) -> Path:
    target = root / name
    target.write_bytes(data.encode() if isinstance(data, str) else data)
    return target


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    lines = [["id", "name", "price"], ["1", "apple", "0.5"], ["2", "pear", "12"]]
    _write(tmp_path, "f.csv", "".join(delimiter.join(line) + "\n" for line in lines))
    table = _read(tmp_path, "f.csv")
    assert table.schema == pa.schema(
        [("id", pa.int64()), ("name", pa.string()), ("price", pa.float64())]
    )
    assert table.to_pylist() == [
        {"id": 1, "name": "apple", "price": 0.5},
        {"id": 2, "name": "pear", "price": 12.0},
    ]


def test_quoted_fields_keep_delimiters_newlines_and_quotes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "q.csv",
        'id;note\n1;"a;b, c"\n2;"two\nlines"\n3;"say ""hi"""\n4;plain\n',
    )
    table = _read(tmp_path, "q.csv")
    assert table.column("note").to_pylist() == ["a;b, c", "two\nlines", 'say "hi"', "plain"]
    assert table.column("id").to_pylist() == [1, 2, 3, 4]


def test_quote_and_escape_options(tmp_path: Path) -> None:
    _write(tmp_path, "single.csv", "a,b\n1,'x,y'\n")
    _write(tmp_path, "backslash.csv", 'a,b\n1,"say \\"hi\\""\n')
    assert _read(tmp_path, "single.csv", quote="'").to_pylist() == [{"a": 1, "b": "x,y"}]
    assert _read(tmp_path, "backslash.csv", escape="\\").to_pylist() == [{"a": 1, "b": 'say "hi"'}]


def test_an_explicit_delimiter_wins_over_detection(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "a,b;c\n1,2;3\n")
    table = _read(tmp_path, "f.csv", delimiter=";")
    assert table.column_names == ["a,b", "c"]
    assert table.to_pylist() == [{"a,b": "1,2", "c": 3}]


def test_without_header_columns_are_numbered(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "1,a\n2,b\n")
    table = _read(tmp_path, "f.csv", header=False)
    assert table.schema == pa.schema([("column0", pa.int64()), ("column1", pa.string())])
    assert table.to_pylist() == [{"column0": 1, "column1": "a"}, {"column0": 2, "column1": "b"}]


def test_skip_rows_skips_lines_before_the_header(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "exported by tool\nat noon\nid,v\n1,x\n")
    assert _read(tmp_path, "f.csv", skip_rows=2).to_pylist() == [{"id": 1, "v": "x"}]


def test_header_names_are_trimmed_numbered_and_deduplicated(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", " a ,a,,b\n1,2,3,4\n")
    assert _read(tmp_path, "f.csv").column_names == ["a", "a_1", "column2", "b"]


def test_null_values_match_unquoted_text_only(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", 'name,score\nNA,1\n"",NA\n,2\n"NA",3\n')
    table = _read(tmp_path, "f.csv", null_values=["", "NA"])
    assert table.to_pylist() == [
        {"name": None, "score": 1},
        {"name": "", "score": None},
        {"name": None, "score": 2},
        {"name": "NA", "score": 3},
    ]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_declared_encodings(tmp_path: Path, encoding: str) -> None:
    _write(tmp_path, "f.csv", "name,city\nJosé,Zürich\nÅsa,Malmö\n".encode(encoding))
    table = _read(tmp_path, "f.csv", encoding=encoding)
    assert table.to_pylist() == [
        {"name": "José", "city": "Zürich"},
        {"name": "Åsa", "city": "Malmö"},
    ]


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "\ufeffid,v\n1,a\n")
    assert _read(tmp_path, "f.csv").column_names == ["id", "v"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "a,b\r\n1,x\r\n2,y\r\n")
    assert _read(tmp_path, "f.csv").to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("f.csv.gz", gzip.compress),
        ("f.csv.zst", zstandard.ZstdCompressor().compress),
        ("gzip_without_extension.csv", gzip.compress),  # found by magic bytes
    ],
)
def test_compressed_files_read_transparently(tmp_path: Path, name: str, compress: Any) -> None:
    text = "id,name\n" + "".join(f"{i},name {i}\n" for i in range(3000))
    _write(tmp_path, name, compress(text.encode()))
    table = _read(tmp_path, name)
    assert table.schema == pa.schema([("id", pa.int64()), ("name", pa.string())])
    assert table.column("id").to_pylist() == list(range(3000))
    assert table.column("name")[2999].as_py() == "name 2999"


def test_a_zstd_file_of_several_frames(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    data = compressor.compress(b"id,v\n1,a\n") + compressor.compress(b"2,b\n")
    _write(tmp_path, "f.csv.zst", data)
    assert _read(tmp_path, "f.csv.zst").to_pylist() == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]


def test_declared_types_win_over_inference(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "zip,amount,day\n02134,1.50,2024-01-31\n10001,2,2024-02-01\n")
    table = _read(
        tmp_path, "f.csv", columns={"zip": "INTEGER", "amount": "DECIMAL(10,2)", "day": "VARCHAR"}
    )
    assert table.schema == pa.schema(
        [("zip", pa.int32()), ("amount", pa.decimal128(10, 2)), ("day", pa.string())]
    )
    rows = table.to_pylist()
    assert [r["zip"] for r in rows] == [2134, 10001]
    assert [str(r["amount"]) for r in rows] == ["1.50", "2.00"]
    assert [r["day"] for r in rows] == ["2024-01-31", "2024-02-01"]


def test_timestamp_format_option(tmp_path: Path) -> None:
    _write(tmp_path, "f.csv", "at\n31/01/2024 10:11:12\n01/02/2024 00:00:00\n")
    table = _read(tmp_path, "f.csv", timestamp_format="%d/%m/%Y %H:%M:%S")
    assert table.schema.field("at").type == pa.timestamp("us")
    assert table.column("at").to_pylist() == [
        dt.datetime(2024, 1, 31, 10, 11, 12),
        dt.datetime(2024, 2, 1),
    ]

"""CSV strictness: values that do not fit, malformed lines and bad files, each named precisely."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from sluiceway.core.errors import MalformedInputError, SchemaError
from sluiceway.sources.base import ReadContext
from sluiceway.sources.files.csv import CsvSource, CsvSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration


def _source(path: str | list[str], **options: Any) -> CsvSource:
    return CsvSource(CsvSpec(type="csv", path=path, **options))


def _fails(root: Path, path: str, **options: Any) -> MalformedInputError:
    """Read to the end, expecting a malformed-input error on the way."""
    with (
        _source(path, **options).read(_ctx(root)) as reader,
        pytest.raises(MalformedInputError) as caught,
    ):
        reader.read_all()
    return caught.value


def _dlq(root: Path, path: str, **options: Any) -> tuple[pa.Table, ReadContext]:
    ctx = _ctx(root, on_bad_rows="dlq")
    with _source(path, **options).read(ctx) as reader:
        return reader.read_all(), ctx


# --- a value that does not fit its column --------------------------------------------------------


def _late_value(root: Path, value: str, rows: int = 10) -> None:
    """A file whose column ``n`` is 0..rows-1, then ``value``, then one more good row."""
    lines = [f"{i},row {i}\n" for i in range(rows)]
    (root / "late.csv").write_text("n,label\n" + "".join(lines) + f"{value},bad\n{rows},last\n")


def test_a_value_after_the_inference_sample_that_does_not_fit_is_an_error(
    tmp_path: Path,
) -> None:
    _late_value(tmp_path, "abc")
    error = _fails(tmp_path, "late.csv", sample_size=5)
    assert "late.csv" in str(error)
    assert "column 'n'" in str(error)
    assert "'abc'" in str(error)
    assert "BIGINT" in str(error)


def test_a_late_fraction_in_an_inferred_integer_column_is_not_rounded(tmp_path: Path) -> None:
    _late_value(tmp_path, "12.5")
    error = _fails(tmp_path, "late.csv", sample_size=5)
    assert "late.csv" in str(error)
    assert "'12.5'" in str(error)
    assert "column 'n'" in str(error)


def test_a_late_text_in_an_inferred_double_column_names_file_line_and_column(
    tmp_path: Path,
) -> None:
    (tmp_path / "late.csv").write_text("x\n" + "1.5\n" * 10 + "abc\n")
    error = _fails(tmp_path, "late.csv", sample_size=5)
    assert str(error).startswith("late.csv:12, column 'x'")
    assert "'abc'" in str(error)


def test_a_late_misfit_goes_to_the_dlq_and_the_other_rows_load(tmp_path: Path) -> None:
    _late_value(tmp_path, "abc")
    table, ctx = _dlq(tmp_path, "late.csv", sample_size=5)
    assert table.schema.field("n").type == pa.int64()
    assert table.column("n").to_pylist() == list(range(11))
    (reject,) = ctx.rejects
    assert (reject.source, reject.reason, reject.file, reject.column) == (
        "s",
        "type_mismatch",
        "late.csv",
        "n",
    )
    assert reject.raw is not None
    assert "abc" in reject.raw


@pytest.mark.parametrize(
    ("declared", "good", "bad", "loaded"),
    [
        ("BIGINT", ["10", "7"], "12.5", [10, 7]),
        ("INTEGER", ["10", " 7 "], "1e3", [10, 7]),
        ("DECIMAL(10,2)", ["10.5", "7"], "1.234", ["10.50", "7.00"]),
        # the right format but out of range: an error, not a NULL
        ("BIGINT", ["10", "7"], "99999999999999999999", [10, 7]),
        ("TINYINT", ["10", "7"], "300", [10, 7]),
        ("DECIMAL(4,2)", ["10.5", "7"], "123.45", ["10.50", "7.00"]),
    ],
)
def test_a_value_that_does_not_fit_a_declared_type(
    tmp_path: Path, declared: str, good: list[str], bad: str, loaded: list[Any]
) -> None:
    (tmp_path / "f.csv").write_text(f"id,amount\n1,{good[0]}\n2,{bad}\n3,{good[1]}\n")
    columns = {"amount": declared}

    error = _fails(tmp_path, "f.csv", columns=columns)
    assert "f.csv" in str(error)
    assert "column 'amount'" in str(error)
    assert repr(bad) in str(error)

    table, ctx = _dlq(tmp_path, "f.csv", columns=columns)
    assert table.column("id").to_pylist() == [1, 3]
    assert [
        str(v) if declared.startswith("DECIMAL") else v for v in table["amount"].to_pylist()
    ] == (loaded)
    (reject,) = ctx.rejects
    assert reject.reason == "type_mismatch"
    assert reject.file == "f.csv"
    assert reject.column == "amount"
    assert reject.raw is not None
    assert bad in reject.raw


def test_trailing_zeros_beyond_a_decimal_scale_are_exact_and_load(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("id,amount\n1,1.230\n2,.5\n3,-7.00000\n")
    table, ctx = _dlq(tmp_path, "f.csv", columns={"amount": "DECIMAL(10,2)"})
    assert [str(v) for v in table["amount"].to_pylist()] == ["1.23", "0.50", "-7.00"]
    assert ctx.rejects == []


def test_dlq_rows_are_found_in_every_batch(tmp_path: Path) -> None:
    lines = [f"{i},{'x' if i % 100 == 0 else i}\n" for i in range(1, 501)]
    (tmp_path / "f.csv").write_text("id,n\n" + "".join(lines))
    ctx = _ctx(tmp_path, on_bad_rows="dlq", batch_size=64)
    with _source("f.csv", columns={"n": "BIGINT"}).read(ctx) as reader:
        batches = list(reader)
    assert all(b.num_rows <= 64 for b in batches)
    ids = [i for b in batches for i in b.column("id").to_pylist()]
    assert ids == [i for i in range(1, 501) if i % 100]
    assert [r.raw for r in ctx.rejects] == [
        f'{{"id": {i}, "n": "x"}}' for i in (100, 200, 300, 400, 500)
    ]


# --- malformed lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "what"),
    [("3,4,5", "has 3 fields but the header has 2"), ("6", "has 1 fields but the header has 2")],
)
def test_a_line_with_a_wrong_number_of_fields(tmp_path: Path, line: str, what: str) -> None:
    (tmp_path / "wide.csv").write_text(f"a,b\n1,2\n{line}\n7,8\n")
    error = _fails(tmp_path, "wide.csv")
    assert str(error).startswith("wide.csv:3: ")
    assert what in str(error)

    table, ctx = _dlq(tmp_path, "wide.csv")
    assert table.to_pylist() == [{"a": 1, "b": 2}, {"a": 7, "b": 8}]
    (reject,) = ctx.rejects
    assert (reject.reason, reject.file, reject.line) == ("malformed", "wide.csv", 3)
    assert reject.raw is not None
    assert json.loads(reject.raw) == line  # the unparseable line, as a JSON string


def test_an_unterminated_quote_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text('a,b\n1,x\n2,"y\n3,z\n')
    error = _fails(tmp_path, "q.csv")
    assert str(error).startswith("q.csv:3: ")
    assert "never closed" in str(error)


# --- bad files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.csv", b""), ("empty.csv.gz", gzip.compress(b"", mtime=0)), ("blank.csv", b"\n\n  \n")],
    ids=["zero-bytes", "empty-gzip", "blank-lines"],
)
def test_an_empty_file_is_an_error_before_any_row(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / "a_good.csv").write_text("a\n1\n")
    (tmp_path / name).write_bytes(data)
    # read() itself raises: not even the good file's rows are yielded
    with pytest.raises(MalformedInputError, match="is empty") as caught:
        _source(["a_good.csv", name]).read(_ctx(tmp_path))
    assert str(caught.value).startswith(f"{name}: ")


def test_a_header_only_file_loads_no_rows(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b\n")
    with _source("h.csv").read(_ctx(tmp_path)) as reader:
        table = reader.read_all()
    assert table.num_rows == 0
    assert table.schema == pa.schema([("a", pa.string()), ("b", pa.string())])


def test_a_header_only_file_keeps_declared_types(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b")
    with _source("h.csv", columns={"a": "DATE"}).read(_ctx(tmp_path)) as reader:
        table = reader.read_all()
    assert table.num_rows == 0
    assert table.schema == pa.schema([("a", pa.date32()), ("b", pa.string())])


def test_a_file_with_a_different_header_is_named(tmp_path: Path) -> None:
    (tmp_path / "part_1.csv").write_text("id,name\n1,a\n")
    (tmp_path / "part_2.csv").write_text("id,title\n2,b\n")
    with pytest.raises(SchemaError) as caught:
        _source("part_*.csv").read(_ctx(tmp_path))
    message = str(caught.value)
    assert message.startswith("part_2.csv: has a different header than part_1.csv")
    assert "missing name" in message
    assert "new title" in message


def test_union_by_name_loads_missing_columns_as_null(tmp_path: Path) -> None:
    (tmp_path / "part_1.csv").write_text("id,name\n1,a\n")
    (tmp_path / "part_2.csv").write_text("title,id\nb,2\n")
    with _source("part_*.csv", union_by_name=True).read(_ctx(tmp_path)) as reader:
        table = reader.read_all()
    assert table.to_pylist() == [
        {"id": 1, "name": "a", "title": None},
        {"id": 2, "name": None, "title": "b"},
    ]


def test_non_utf8_bytes_in_the_head_fail_before_any_row(tmp_path: Path) -> None:
    (tmp_path / "a_good.csv").write_text("a,b\n0,fine\n")
    (tmp_path / "bad.csv").write_bytes(b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(MalformedInputError) as caught:
        _source("*.csv").read(_ctx(tmp_path))
    assert str(caught.value).startswith("bad.csv:3: is not valid utf-8")
    assert "encoding" in str(caught.value)


@pytest.mark.parametrize("compress", [False, True])
def test_non_utf8_bytes_far_beyond_the_head_name_file_and_line(
    tmp_path: Path, compress: bool
) -> None:
    rows = b"".join(b"%d,some text to pass the head\n" % i for i in range(10_000))
    assert len(rows) > 256 * 1024
    data = b"a,b\n" + rows + b"10000,caf\xe9\n10001,ok\n"
    name = "bad.csv.gz" if compress else "bad.csv"
    (tmp_path / name).write_bytes(gzip.compress(data) if compress else data)
    error = _fails(tmp_path, name)
    assert str(error).startswith(f"{name}:10002: is not valid utf-8")


def test_a_declared_column_missing_from_the_header(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SchemaError) as caught:
        _source("f.csv", columns={"price": "DOUBLE"}).read(_ctx(tmp_path))
    assert str(caught.value).startswith("f.csv: declared column(s) 'price' are not in the header")

"""What every file source promises: bounded batches, globs, lineage, cancel, progress, not-found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from sluiceway.core.errors import CancelledError, MalformedInputError, SourceNotFoundError
from sluiceway.sources.base import ProgressSink, Source
from sluiceway.sources.files.csv import CsvSource, CsvSpec
from sluiceway.sources.files.excel import ExcelSource, ExcelSpec
from sluiceway.sources.files.json import JsonSource, JsonSpec
from sluiceway.sources.files.parquet import ParquetSource, ParquetSpec
from tests.source_context import read_context as _ctx

pytestmark = pytest.mark.integration

KINDS = ["csv", "ndjson", "parquet", "xlsx"]


def _source(kind: str, path: str | list[str], columns: dict[str, str] | None = None) -> Source[Any]:
    declared = columns or {}
    if kind == "csv":
        return CsvSource(CsvSpec(type="csv", path=path, columns=declared))
    if kind == "ndjson":
        return JsonSource(JsonSpec(type="ndjson", path=path, columns=declared))
    if kind == "parquet":
        return ParquetSource(ParquetSpec(type="parquet", path=path, columns=declared))
    return ExcelSource(ExcelSpec(type="xlsx", path=path, columns=declared))


def _write(path: Path, ids: range) -> Path:
    """A file of rows ``{id, name}`` in the format its extension names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix.lstrip(".")
    if kind == "csv":
        path.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in ids))
    elif kind == "ndjson":
        path.write_text("".join(json.dumps({"id": i, "name": f"n{i}"}) + "\n" for i in ids))
    elif kind == "parquet":
        table = pa.table({"id": pa.array(ids, pa.int64()), "name": [f"n{i}" for i in ids]})
        pq.write_table(table, path, row_group_size=4096)
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(["id", "name"])
        for i in ids:
            sheet.append([i, f"n{i}"])
        book.save(path)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_batches_are_bounded_and_rows_exact(tmp_path: Path, kind: str) -> None:
    _write(tmp_path / f"big.{kind}", range(10_500))
    with _source(kind, f"big.{kind}").read(_ctx(tmp_path, batch_size=1000)) as reader:
        schema = reader.schema
        batches = list(reader)
    assert schema == pa.schema([("id", pa.int64()), ("name", pa.string())])
    assert all(b.schema == schema for b in batches)
    assert max(b.num_rows for b in batches) <= 1000
    assert sum(b.num_rows for b in batches) == 10_500
    ids = [i for b in batches for i in b.column("id").to_pylist()]
    assert ids == list(range(10_500))


@pytest.mark.parametrize("kind", KINDS)
def test_a_glob_reads_files_in_sorted_order_with_their_names(tmp_path: Path, kind: str) -> None:
    for name, start in (("b", 10), ("c", 20), ("a", 0)):
        _write(tmp_path / f"part_{name}.{kind}", range(start, start + 2))
    _write(tmp_path / f"other.{kind}", range(100, 101))
    with _source(kind, f"part_*.{kind}").read(_ctx(tmp_path, lineage=True)) as reader:
        table = reader.read_all()
    assert table.schema.field("_sluiceway_source").type == pa.string()
    assert list(
        zip(table["id"].to_pylist(), table["_sluiceway_source"].to_pylist(), strict=True)
    ) == [
        (0, f"part_a.{kind}"),
        (1, f"part_a.{kind}"),
        (10, f"part_b.{kind}"),
        (11, f"part_b.{kind}"),
        (20, f"part_c.{kind}"),
        (21, f"part_c.{kind}"),
    ]


def _ids_and_sources(root: Path, path: str | list[str]) -> list[tuple[int, str]]:
    with _source("csv", path).read(_ctx(root, lineage=True)) as reader:
        table = reader.read_all()
    return list(zip(table["id"].to_pylist(), table["_sluiceway_source"].to_pylist(), strict=True))


def test_double_star_recurses_into_folders(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "z.csv", range(1))
    _write(tmp_path / "data" / "2024" / "01" / "a.csv", range(1, 2))
    _write(tmp_path / "data" / "2024" / "b.csv", range(2, 3))
    (tmp_path / "data" / "notes.txt").write_text("not data")
    assert _ids_and_sources(tmp_path, "data/**/*.csv") == [
        (1, "data/2024/01/a.csv"),
        (2, "data/2024/b.csv"),
        (0, "data/z.csv"),
    ]


def test_a_list_of_paths_keeps_its_order_and_reads_each_file_once(tmp_path: Path) -> None:
    for name, start in (("a", 0), ("b", 10), ("c", 20)):
        _write(tmp_path / f"{name}.csv", range(start, start + 1))
    assert _ids_and_sources(tmp_path, ["c.csv", "*.csv", "b.csv", "./c.csv"]) == [
        (20, "c.csv"),
        (0, "a.csv"),
        (10, "b.csv"),
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.{kind}", "File not found: missing.{kind} (looked in {root})"),
        ("missing_*.{kind}", "No file matches missing_*.{kind} (looked in {root})"),
        ("folder", "folder is a directory"),
        (["present.{kind}", "missing.{kind}"], "File not found: missing.{kind}"),
    ],
)
def test_nothing_to_read_is_an_error_naming_the_path(
    tmp_path: Path, kind: str, path: str | list[str], message: str
) -> None:
    (tmp_path / "folder").mkdir()
    _write(tmp_path / "folder" / f"inside.{kind}", range(1))
    _write(tmp_path / f"present.{kind}", range(1))
    paths = [path] if isinstance(path, str) else path
    resolved = [p.format(kind=kind) for p in paths]
    source = _source(kind, resolved[0] if isinstance(path, str) else resolved)
    with pytest.raises(SourceNotFoundError) as caught:
        source.read(_ctx(tmp_path))
    assert str(caught.value).startswith(message.format(kind=kind, root=tmp_path))


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_stops_at_the_next_batch_boundary(tmp_path: Path, kind: str) -> None:
    _write(tmp_path / f"a.{kind}", range(3000))
    _write(tmp_path / f"b.{kind}", range(3000, 4000))
    ctx = _ctx(tmp_path, batch_size=500)
    with _source(kind, f"*.{kind}").read(ctx) as reader:
        first = reader.read_next_batch()
        assert first.num_rows == 500
        ctx.cancel.cancel("stopped by operator")
        with pytest.raises(CancelledError, match="run stopped by operator"):
            reader.read_next_batch()


@pytest.mark.parametrize("kind", KINDS)
def test_a_cancelled_run_reads_no_batch(tmp_path: Path, kind: str) -> None:
    _write(tmp_path / f"a.{kind}", range(10))
    ctx = _ctx(tmp_path)
    ctx.cancel.cancel()
    with _source(kind, f"a.{kind}").read(ctx) as reader, pytest.raises(CancelledError):
        reader.read_next_batch()


class Recorder(ProgressSink):
    def __init__(self) -> None:
        self.expected: list[tuple[int, int]] = []
        self.files: list[str] = []
        self.consumed_bytes: list[int] = []
        self.events: list[str] = []

    def expect(self, total_bytes: int, files: int) -> None:
        self.expected.append((total_bytes, files))
        self.events.append("expect")

    def consumed(self, bytes_done: int) -> None:
        self.consumed_bytes.append(bytes_done)
        self.events.append("consumed")

    def file(self, name: str) -> None:
        self.files.append(name)
        self.events.append("file")


@pytest.mark.parametrize("kind", KINDS)
def test_progress_counts_the_bytes_of_every_file(tmp_path: Path, kind: str) -> None:
    paths = [
        _write(tmp_path / f"a.{kind}", range(1200)),
        _write(tmp_path / f"b.{kind}", range(10)),
        _write(tmp_path / f"c.{kind}", range(700)),
    ]
    total = sum(p.stat().st_size for p in paths)
    ctx = _ctx(tmp_path, batch_size=500)
    sink = Recorder()
    ctx.progress = sink
    with _source(kind, f"*.{kind}").read(ctx) as reader:
        assert sink.expected == [(total, 3)]  # known before the first batch
        rows = sum(b.num_rows for b in reader)
    assert rows == 1910
    assert sink.events[0] == "expect"
    assert sink.files == [f"a.{kind}", f"b.{kind}", f"c.{kind}"]
    assert sink.consumed_bytes == sorted(sink.consumed_bytes)
    assert sink.consumed_bytes[-1] == total
    assert all(0 <= done <= total for done in sink.consumed_bytes)
    # every file is finished (its size counted) before the next one starts
    finished = [sum(p.stat().st_size for p in paths[: i + 1]) for i in range(len(paths))]
    assert set(finished) <= set(sink.consumed_bytes)


def _write_numbers(path: Path, values: list[float]) -> None:
    """A one-column file ``n`` of numbers, each written as the format writes a number."""
    kind = path.suffix.lstrip(".")
    if kind == "csv":
        path.write_text("n\n" + "".join(f"{v:g}\n" for v in values))
    elif kind == "ndjson":
        path.write_text("".join(json.dumps({"n": v}) + "\n" for v in values))
    elif kind == "parquet":
        pq.write_table(pa.table({"n": pa.array(values, pa.float64())}), path)
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(["n"])
        for v in values:
            sheet.append([v])
        book.save(path)


@pytest.mark.parametrize("kind", KINDS)
def test_a_fraction_in_a_declared_integer_column_is_an_error(tmp_path: Path, kind: str) -> None:
    _write_numbers(tmp_path / f"f.{kind}", [1, 12.5, 3])
    source = _source(kind, f"f.{kind}", columns={"n": "BIGINT"})
    with source.read(_ctx(tmp_path)) as reader, pytest.raises(MalformedInputError) as caught:
        reader.read_all()
    assert str(caught.value).startswith(f"f.{kind}")
    assert "column 'n'" in str(caught.value)
    assert "12.5" in str(caught.value)

    ctx = _ctx(tmp_path, on_bad_rows="dlq")
    with source.read(ctx) as reader:
        assert reader.read_all().column("n").to_pylist() == [1, 3]
    (reject,) = ctx.rejects
    assert (reject.reason, reject.file, reject.column) == ("type_mismatch", f"f.{kind}", "n")
    assert "12.5" in reject.message

"""Writers that append chunks to one output file and report what they wrote.

Every sink writes to ``<name>.partial`` and renames on success, so an interrupted run never leaves
a truncated file that looks complete. Output is byte-for-byte reproducible: gzip headers carry
``mtime=0`` and a fixed file name, zstd frames are single-threaded, and the xlsx container is
repacked with fixed timestamps (see :func:`normalize_xlsx`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import zstandard

from sluiceway.demo.manifest import FileRecord

GZIP_LEVEL = 6
ZSTD_LEVEL = 3
# Office documents keep dates in docProps/core.xml; zip entries need a DOS timestamp >= 1980.
FIXED_DOCUMENT_TIME = datetime(2026, 1, 1, 0, 0, 0)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_for(out_dir: Path, relative: str, fmt: str, rows: int) -> FileRecord:
    """The manifest entry for a finished file."""
    path = out_dir / relative
    return FileRecord(
        path=relative, format=fmt, rows=rows, bytes=path.stat().st_size, sha256=sha256_of(path)
    )


class _Sink:
    """Shared life cycle: temp file, row count, rename on close, cleanup on error."""

    fmt = ""

    def __init__(self, out_dir: Path, relative: str) -> None:
        self.out_dir = out_dir
        self.relative = relative
        self.final = out_dir / relative
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.final.with_name(self.final.name + ".partial")
        self.rows = 0
        self._closed = False

    def _finish(self) -> None:
        """Flush and close the underlying writers (subclasses)."""

    def close(self) -> FileRecord:
        if not self._closed:
            self._closed = True
            self._finish()
            os.replace(self.partial, self.final)
        return record_for(self.out_dir, self.relative, self.fmt, self.rows)

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._finish()
            finally:
                self.partial.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()


class CsvSink(_Sink):
    """A CSV file (optionally gzip-compressed) with a header row, written chunk by chunk.

    pyarrow quotes every string value and leaves numbers, booleans, dates and timestamps bare,
    so zip codes keep their leading zeros and readers still see typed columns.
    """

    def __init__(self, out_dir: Path, relative: str, schema: pa.Schema) -> None:
        super().__init__(out_dir, relative)
        self.compressed = relative.endswith(".gz")
        self.fmt = "csv.gz" if self.compressed else "csv"
        self._raw: IO[bytes] = self.partial.open("wb")
        self._gzip: gzip.GzipFile | None = None
        if self.compressed:
            # The header embeds a name and a time; fix both so the bytes are reproducible.
            name = self.final.name.removesuffix(".gz")
            self._gzip = gzip.GzipFile(
                filename=name, mode="wb", fileobj=self._raw, mtime=0, compresslevel=GZIP_LEVEL
            )
        self._stream = pa.PythonFile(self._gzip or self._raw, mode="w")
        self._writer = pa_csv.CSVWriter(self._stream, schema)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def _finish(self) -> None:
        self._writer.close()
        if self._gzip is not None:
            self._gzip.close()
        self._raw.close()


class ParquetSink(_Sink):
    """A zstd-compressed Parquet file; each chunk becomes one row group."""

    fmt = "parquet"

    def __init__(self, out_dir: Path, relative: str, schema: pa.Schema) -> None:
        super().__init__(out_dir, relative)
        self._writer = pq.ParquetWriter(self.partial, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def _finish(self) -> None:
        self._writer.close()


class NdjsonSink(_Sink):
    """Newline-delimited JSON, appended as already-encoded chunks."""

    fmt = "ndjson"

    def __init__(self, out_dir: Path, relative: str) -> None:
        super().__init__(out_dir, relative)
        self._raw: IO[bytes] = self.partial.open("wb")

    def write(self, lines: bytes, rows: int) -> None:
        self._raw.write(lines)
        self.rows += rows

    def _finish(self) -> None:
        self._raw.close()


def write_zstd_part(out_dir: Path, relative: str, pieces: Iterable[bytes], rows: int) -> FileRecord:
    """One zstd-compressed NDJSON part, streamed from ``pieces`` into a single frame.

    Streaming keeps only one piece of text in memory at a time; single-threaded zstd gives
    the same bytes for the same pieces.
    """
    final = out_dir / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0)
    try:
        with (
            partial.open("wb") as handle,
            compressor.stream_writer(handle, closefd=False) as writer,
        ):
            for piece in pieces:
                writer.write(piece)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    return FileRecord(
        path=relative,
        format="ndjson.zst",
        rows=rows,
        bytes=final.stat().st_size,
        sha256=sha256_of(final),
    )


def normalize_xlsx(path: Path, core_xml: bytes) -> None:
    """Rewrite an xlsx container so equal workbooks give equal bytes.

    openpyxl stamps every zip entry with the current time and sets the document's "modified"
    property to now on save; replace both with fixed values, keeping entry order and content.
    """
    repacked = path.with_name(path.name + ".repack")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(repacked, "w") as target:
        for info in source.infolist():
            data = core_xml if info.filename == "docProps/core.xml" else source.read(info)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3  # "Unix", whatever platform wrote it
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, data)
    os.replace(repacked, path)

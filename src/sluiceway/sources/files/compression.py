"""Transparent gzip/zstd: detect by magic bytes, read a decompressed head for sniffing.

DuckDB decompresses while it reads; we only need the first few hundred kilobytes in Python to
detect a CSV dialect, check the encoding early, and estimate rows per byte for progress.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import zstandard

from sluiceway.core.errors import Location, MalformedInputError

Compression = Literal["none", "gzip", "zstd"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
HEAD_BYTES = 256 * 1024


def detect(path: Path) -> Compression:
    """The compression of ``path`` from its first bytes (extensions can lie)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic.startswith(_GZIP_MAGIC):
        return "gzip"
    if magic == _ZSTD_MAGIC:
        return "zstd"
    return "none"


@dataclass(frozen=True, slots=True)
class Head:
    """The decompressed start of a file and how many bytes on disk produced it."""

    data: bytes
    disk_bytes: int  # compressed bytes consumed to produce ``data``
    complete: bool  # the whole file fits in ``data``


def read_head(path: Path, compression: Compression, limit: int = HEAD_BYTES) -> Head:
    """Up to ``limit`` decompressed bytes from the start of ``path``."""
    try:
        with path.open("rb") as raw:
            if compression == "none":
                data = raw.read(limit + 1)
                return Head(data[:limit], min(len(data), limit), len(data) <= limit)
            if compression == "gzip":
                with gzip.GzipFile(fileobj=raw) as stream:
                    data = stream.read(limit + 1)
            else:
                # closefd=False: ``raw`` must stay open to tell how many disk bytes were read.
                reader = zstandard.ZstdDecompressor().stream_reader(
                    raw, read_across_frames=True, closefd=False
                )
                with reader:
                    data = _read_up_to(reader, limit + 1)
            return Head(data[:limit], raw.tell(), len(data) <= limit)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise MalformedInputError(
            f"cannot decompress ({compression}): {exc}",
            location=Location(file=str(path)),
            hint="The file may be truncated or not really compressed with "
            f"{compression}; check how it was produced.",
        ) from exc


def _read_up_to(reader: zstandard.ZstdDecompressionReader, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = reader.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)

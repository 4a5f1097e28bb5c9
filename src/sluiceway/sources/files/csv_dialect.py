"""Detect a CSV file's delimiter and header from its first lines.

DuckDB's own sniffer picks the "most consistent" dialect over a sample and, on a messy file, can
settle on a wrong delimiter and read every line as one column, or skip rows silently. We detect
the delimiter ourselves with a transparent rule (the candidate under which most sample lines have
as many fields as the header, ties to the wider header), then let DuckDB read with that dialect
strictly, so a malformed line is an error with a line number rather than a silent skip.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from sluiceway.core.errors import Location, MalformedInputError
from sluiceway.sources.files.headers import column_names

CANDIDATES = (",", ";", "\t", "|")
SAMPLE_LINES = 200

# DuckDB's CSV reader decodes these natively; others would need an extension we cannot install.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
}


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str
    quote: str
    header: list[str]  # the header's fields, or generated names without a header
    bytes_per_row: float  # decompressed bytes per line in the sample, for progress estimates


def detect_dialect(
    head: bytes,
    *,
    file: str,
    encoding: str,
    complete: bool,
    delimiter: str | None,
    quote: str | None,
    has_header: bool,
    skip_rows: int,
) -> Dialect:
    """Work out how to read a CSV file from its first bytes."""
    text = _decode(head, file=file, encoding=encoding, complete=complete)
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    lines = lines[skip_rows:]
    sample = "".join(lines[:SAMPLE_LINES])
    quote_char = quote or '"'
    chosen = delimiter or _best_delimiter(sample, quote_char)
    rows = list(csv.reader(io.StringIO(sample), delimiter=chosen, quotechar=quote_char))
    first = rows[0] if rows else []
    header = column_names(first) if has_header else [f"column{i}" for i in range(len(first))]
    sample_bytes = len(sample.encode(encoding, errors="replace"))
    per_row = sample_bytes / max(1, min(len(lines), SAMPLE_LINES))
    return Dialect(delimiter=chosen, quote=quote_char, header=header, bytes_per_row=per_row)


def _decode(head: bytes, *, file: str, encoding: str, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise MalformedInputError(
            f"is not valid {encoding} (invalid byte 0x{head[exc.start]:02x} at byte "
            f"{exc.start} of the file)",
            location=Location(file=file, line=line),
            hint="Set the source's `encoding` to the file's real encoding, e.g. "
            "`encoding: latin-1`.",
        ) from None
    return text.removeprefix("\ufeff")


def _best_delimiter(sample: str, quote: str) -> str:
    best = (-1.0, -1, CANDIDATES[0])
    for candidate in CANDIDATES:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=candidate, quotechar=quote)]
        rows = [r for r in rows if r]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistency = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (consistency, width, candidate)
        if score[:2] > best[:2]:
            best = score
    return best[2]

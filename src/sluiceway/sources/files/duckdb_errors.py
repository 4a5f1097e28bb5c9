"""Translate DuckDB's reader errors into errors that name the file, line and column.

DuckDB's messages carry the facts (``CSV Error on Line: 3``, ``converting column "price"``) inside
a long text with parser settings; we pull the facts out and say what to do next in our words.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sluiceway.core.errors import Location, MalformedInputError, SluicewayError, SourceError
from sluiceway.sources.files.duckdb_scan import FileScan

_LINE = re.compile(r"(?:CSV Error on Line:|in line|on line)\s*(\d+)", re.IGNORECASE)
_CONVERT = re.compile(
    r'converting column "(?P<column>[^"]+)"\. Could not convert string "(?P<value>.*?)" '
    r"to '(?P<type>[^']+)'"
)
_FIELD_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_ORIGINAL = re.compile(r"Original Line: (.*)")
_UNKNOWN_KEY = re.compile(r'has unknown key "([^"]+)"')
_JSON_MALFORMED = re.compile(r"Malformed JSON[^:]*:\s*([^.]+)")
_JSON_CAST = re.compile(r"JSON transform error[^:]*:\s*(.+?)(?:\n|$)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^[A-Za-z ]+Error:\s*", "", text)


def _line(text: str) -> int | None:
    match = _LINE.search(text)
    return int(match.group(1)) if match else None


def translate_csv(
    exc: Exception, scan: FileScan, *, declared: Collection[str], sample_size: int
) -> SluicewayError:
    text = str(exc)
    line = _line(text)
    original = _ORIGINAL.search(text)
    raw = f" (line: {original.group(1)[:120]!r})" if original else ""
    if match := _CONVERT.search(text):
        column, value, target = match["column"], match["value"], match["type"]
        if column in declared:
            hint = f"The value does not fit the type declared in `columns:` ({target})."
        else:
            hint = (
                f"{target} was inferred from the first {sample_size} rows. Declare the column's "
                f"type (`columns: {{{column}: VARCHAR}}`), raise `sample_size`, or set "
                "`on_bad_rows: dlq` to set such rows aside."
            )
        return MalformedInputError(
            f"value {value!r} is not a valid {target}",
            location=Location(file=scan.display, line=line, column=column),
            hint=hint,
        )
    if match := _FIELD_COUNT.search(text):
        expected, found = match.groups()
        return MalformedInputError(
            f"the line has {found} fields but the header has {expected}{raw}",
            location=Location(file=scan.display, line=line),
            hint="Fix the line, or set `on_bad_rows: dlq` to load the others and keep this one "
            "in the dead-letter queue.",
        )
    if "Invalid unicode" in text:
        return MalformedInputError(
            f"is not valid {scan.params.get('encoding', 'utf-8')}",
            location=Location(file=scan.display, line=line),
            hint="Set the source's `encoding` (utf-8, utf-16 or latin-1).",
        )
    if "unterminated quote" in text.lower():
        return MalformedInputError(
            f"a quoted value is never closed{raw}",
            location=Location(file=scan.display, line=line),
            hint="Check the quoting of this line, or set `quote`/`escape` for this source.",
        )
    return MalformedInputError(_first_line(exc), location=Location(file=scan.display, line=line))


def translate_json(exc: Exception, scan: FileScan) -> SluicewayError:
    text = str(exc)
    line = _line(text)
    where = Location(file=scan.display, line=line)
    if match := _UNKNOWN_KEY.search(text):
        return MalformedInputError(
            f"key {match.group(1)!r} appears after the records sampled to infer the schema",
            location=where,
            hint="Set `sample_size: -1` to infer the schema from every record.",
        )
    if match := _JSON_MALFORMED.search(text):
        # DuckDB 2.0 numbers a malformed line one past the line it failed on (its transform
        # errors count right): a bad byte on line 1 is reported "in line 2".
        fixed = Location(file=scan.display, line=line - 1 if line and line > 1 else line)
        return MalformedInputError(f"malformed JSON: {match.group(1).strip()}", location=fixed)
    if match := _JSON_CAST.search(text):
        return MalformedInputError(
            f"a value does not fit its column: {match.group(1).strip()}",
            location=where,
            hint="Declare the column's type in `columns:` or raise `sample_size`.",
        )
    return MalformedInputError(_first_line(exc), location=where)


def translate_parquet(exc: Exception, scan: FileScan) -> SluicewayError:
    text = str(exc)
    where = Location(file=scan.display)
    if "magic bytes" in text or "too small to be a Parquet file" in text:
        return MalformedInputError(
            "is not a Parquet file, or it is truncated (no Parquet footer at its end)",
            location=where,
            hint="Re-export or re-download the file; a partial copy has no footer.",
        )
    return SourceError(f"cannot read Parquet: {_first_line(exc)}", location=where)

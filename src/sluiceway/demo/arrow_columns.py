"""Building Arrow columns from numpy arrays without a trip through Python objects.

The generator computes values with numpy and writes them with pyarrow; these helpers bridge the
two for the types numpy has no direct equivalent of (decimals in cents, dates, fixed-width text)
and patch a few rows of a column in place of rebuilding it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.demo.draws import BoolArray, I64Array

EPOCH = np.datetime64("1970-01-01", "D")


def cents_to_decimal(
    cents: I64Array, precision: int = 12, valid: BoolArray | None = None
) -> pa.Array:
    """A ``decimal128(precision, 2)`` column whose unscaled values are ``cents``.

    Decimal128 stores little-endian two's-complement 128-bit integers, so each value is the
    int64 followed by its sign extension; building the buffer directly avoids one Python
    ``Decimal`` per row.
    """
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    validity = None
    null_count = 0
    if valid is not None and not bool(valid.all()):
        validity = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
        null_count = int((~valid).sum())
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2),
        len(cents),
        [validity, pa.py_buffer(words.tobytes())],
        null_count=null_count,
    )


def timestamps(seconds: I64Array) -> pa.Array:
    """A ``timestamp[s]`` column (naive, read as UTC) from epoch seconds."""
    return pa.array(np.asarray(seconds, dtype=np.int64), type=pa.int64()).cast(pa.timestamp("s"))


def timestamps_ms(millis: I64Array) -> pa.Array:
    """A ``timestamp[ms]`` column from epoch milliseconds."""
    return pa.array(np.asarray(millis, dtype=np.int64), type=pa.int64()).cast(pa.timestamp("ms"))


def dates(days: I64Array) -> pa.Array:
    """A ``date32`` column from days since the epoch."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32()).cast(pa.date32())


def pick(words: Sequence[str | None], indexes: npt.ArrayLike) -> pa.Array:
    """``words[i]`` for each index, as an Arrow string column (``None`` becomes null)."""
    return pa.array(list(words), type=pa.string()).take(
        pa.array(np.asarray(indexes, dtype=np.int64))
    )


def ints_as_text(values: npt.ArrayLike) -> pa.Array:
    """Integers rendered as decimal text."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def zero_padded(values: npt.ArrayLike, width: int) -> pa.Array:
    """Non-negative integers as text, left-padded with zeros (zip codes, SKU numbers)."""
    return pc.utf8_lpad(ints_as_text(values), width=width, padding="0")


def fixed_width_text(codes: npt.NDArray[np.uint8]) -> pa.Array:
    """An (n, width) array of ASCII codes as an Arrow string column, one row per string."""
    rows, width = codes.shape
    offsets = np.arange(rows + 1, dtype=np.int32) * np.int32(width)
    return pa.StringArray.from_buffers(
        rows, pa.py_buffer(offsets.tobytes()), pa.py_buffer(np.ascontiguousarray(codes).tobytes())
    )


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string columns and literals row by row (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def replace_rows(
    column: pa.Array, rows: npt.ArrayLike, values: pa.Array | list[object]
) -> pa.Array:
    """``column`` with the values at the given row positions replaced, in position order."""
    positions = np.asarray(rows, dtype=np.int64)
    if positions.size == 0:
        return column
    order = np.argsort(positions, kind="stable")
    mask = np.zeros(len(column), dtype=np.bool_)
    mask[positions] = True
    replacement = values if isinstance(values, pa.Array) else pa.array(values, type=column.type)
    replacement = replacement.cast(column.type).take(pa.array(order))
    return pc.replace_with_mask(column, pa.array(mask), replacement)


def repeat_rows(table: pa.Table, offsets: I64Array) -> pa.Table:
    """``table`` with each row at ``offsets`` written twice in a row (exact duplicates)."""
    if offsets.size == 0:
        return table
    repeats = np.ones(table.num_rows, dtype=np.int64)
    repeats[offsets] = 2
    return table.take(pa.array(np.repeat(np.arange(table.num_rows), repeats)))

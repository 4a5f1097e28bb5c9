"""PostgreSQL log sequence numbers: the ``X/Y`` text form and the 64-bit integer behind it.

An LSN is a byte position in the write-ahead log. PostgreSQL prints it as two hexadecimal halves
(``16/B374D848``); Sluiceway keeps it as an ``int`` so positions compare and sort as numbers and
fit an Arrow ``int64`` column (a server would need to write 8 EiB of WAL to overflow it).
"""

from __future__ import annotations

from sluiceway.core.errors import ConfigError

_HALF = 32
_MASK = (1 << _HALF) - 1


def parse_lsn(text: str) -> int:
    """The integer position of an LSN written as ``X/Y``.

    >>> parse_lsn("16/B374D848")
    97500059720
    """
    high, sep, low = text.strip().partition("/")
    try:
        if not sep:
            raise ValueError(text)
        high_value, low_value = int(high, 16), int(low, 16)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a PostgreSQL LSN",
            hint="An LSN is two hexadecimal numbers separated by a slash, like '0/16B3748'.",
        ) from None
    if not (0 <= high_value <= _MASK and 0 <= low_value <= _MASK):
        raise ConfigError(f"{text!r} is not a PostgreSQL LSN: each half must fit 32 bits")
    return (high_value << _HALF) | low_value


def format_lsn(position: int) -> str:
    """The ``X/Y`` text PostgreSQL uses for ``position``.

    >>> format_lsn(97500059720)
    '16/B374D848'
    """
    if not 0 <= position <= (1 << 64) - 1:
        raise ValueError(f"{position} is not a 64-bit WAL position")
    return f"{position >> _HALF:X}/{position & _MASK:X}"


def as_lsn(position: int | str) -> int:
    """``position`` as an integer, whether given as ``X/Y`` text or already as an integer."""
    return parse_lsn(position) if isinstance(position, str) else position

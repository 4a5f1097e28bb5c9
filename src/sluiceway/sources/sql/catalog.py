"""What a database's catalog says about a source table: columns, primary key, foreign keys.

Both dialects describe a table with the same dataclasses (:class:`TableInfo`), read from
``pg_catalog`` (PostgreSQL) or ``information_schema`` (MySQL, MariaDB). The foreign keys say
which tables a table refers to, so loads can be ordered parents first.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

_LISTED = 20  # tables named in a "does not exist" hint


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column as the catalog declares it."""

    name: str
    data_type: str  # as the database spells it: numeric(10,2), bigint unsigned, tinyint(1)
    nullable: bool


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """``columns`` of a table refer to ``referenced_columns`` of another (or the same) table."""

    name: str
    columns: tuple[str, ...]
    referenced_schema: str
    referenced_table: str
    referenced_columns: tuple[str, ...]

    @property
    def referenced(self) -> str:
        """``schema.table`` of the referenced table."""
        return f"{self.referenced_schema}.{self.referenced_table}"

    def __str__(self) -> str:
        return (
            f"({', '.join(self.columns)}) -> "
            f"{self.referenced}({', '.join(self.referenced_columns)})"
        )


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A table (or view) as the catalog describes it. Views have no keys."""

    schema: str
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]

    @property
    def qualified(self) -> str:
        """``schema.table`` for messages."""
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def split_name(text: str, quotes: str) -> list[str]:
    """The dot-separated parts of a table name, unquoted (a doubled quote is a quote).

    >>> split_name('sales."Order Items"', '"')
    ['sales', 'Order Items']
    >>> split_name("`my.db`.orders", "`")
    ['my.db', 'orders']
    """
    parts: list[str] = []
    current = ""
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == quote and text[index + 1 : index + 2] == quote:
                current += quote
                index += 1
            elif char == quote:
                quote = None
            else:
                current += char
        elif char in quotes:
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
        index += 1
    if quote is not None:
        raise ValueError("has an unterminated quote")
    parts.append(current.strip())
    if any(not part for part in parts):
        raise ValueError("has an empty part")
    return parts


def missing_table_hint(wanted: str, tables: Sequence[str]) -> str:
    """What to tell someone whose table does not exist: the closest names, then a list."""
    if not tables:
        return "The database has no table this connection can see; check the database in the URL."
    # Compare like with like: ``ordres`` with the tables' names, ``sales.ordres`` with
    # ``schema.table``.
    qualified = "." in wanted
    keys: dict[str, str] = {}
    for table in tables:
        keys.setdefault(table.lower() if qualified else table.rpartition(".")[2].lower(), table)
    close = difflib.get_close_matches(wanted.lower(), list(keys), n=3) if wanted else []
    guessed = list(dict.fromkeys(keys[key] for key in close))
    guess = f"Did you mean {', '.join(guessed)}? " if guessed else ""
    shown = ", ".join(tables[:_LISTED])
    more = f" and {len(tables) - _LISTED} more" if len(tables) > _LISTED else ""
    return f"{guess}Tables: {shown}{more}."


def missing_columns_hint(available: Sequence[str]) -> str:
    return f"Columns: {', '.join(available)}."

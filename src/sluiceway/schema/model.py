"""A table's schema as the registry records it: ordered columns, types, nullability.

Types are Arrow types in memory and DuckDB SQL spellings on disk (``BIGINT``,
``DECIMAL(12,2)``, ``STRUCT("a" BIGINT)``), so a stored version reads back to the same types.
A column whose values have all been NULL so far has no type yet (``type is None``): it stays
*unresolved* until a load brings a value, and then takes that value's type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sluiceway.core.sql_types import arrow_type, sql_type

UNRESOLVED = "NULL"


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    name: str
    type: pa.DataType | None  # None: only NULLs seen so far
    nullable: bool = True

    @property
    def resolved(self) -> bool:
        return self.type is not None

    @property
    def sql_type(self) -> str:
        return UNRESOLVED if self.type is None else sql_type(self.type)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.sql_type, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSchema:
        text = str(data["type"])
        return cls(
            name=str(data["name"]),
            type=None if text == UNRESOLVED else arrow_type(text),
            nullable=bool(data.get("nullable", True)),
        )

    def describe(self) -> str:
        return f"{self.name} {self.sql_type}{'' if self.nullable else ' NOT NULL'}"


@dataclass(frozen=True, slots=True)
class TableSchema:
    """Columns in table order. Names compare case-insensitively, as in SQL."""

    columns: tuple[ColumnSchema, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for position, column in enumerate(self.columns):
            key = column.name.lower()
            if key in self._index:
                raise ValueError(f"column {column.name!r} appears twice")
            self._index[key] = position

    def __iter__(self) -> Iterator[ColumnSchema]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def get(self, name: str) -> ColumnSchema | None:
        position = self._index.get(name.lower())
        return None if position is None else self.columns[position]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def fingerprint(self) -> str:
        """A stable hash of names, types and nullability, in order."""
        canonical = json.dumps([c.to_dict() for c in self.columns], sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.columns]

    @classmethod
    def from_dicts(cls, data: Iterable[Mapping[str, Any]]) -> TableSchema:
        return cls(tuple(ColumnSchema.from_dict(d) for d in data))

    @classmethod
    def from_arrow(cls, schema: pa.Schema) -> TableSchema:
        """Arrow's ``null`` type means unresolved; every other type is kept as it is."""
        return cls(
            tuple(
                ColumnSchema(f.name, None if pa.types.is_null(f.type) else f.type, f.nullable)
                for f in schema
            )
        )

    def to_arrow(self, unresolved_as: pa.DataType | None = None) -> pa.Schema:
        """Unresolved columns become ``unresolved_as`` (text by default: it holds anything)."""
        placeholder = unresolved_as or pa.string()
        return pa.schema(
            [pa.field(c.name, c.type or placeholder, nullable=c.nullable) for c in self.columns]
        )

    def replace(self, column: ColumnSchema) -> TableSchema:
        """The schema with ``column`` replacing the column of the same name, or appended."""
        position = self._index.get(column.name.lower())
        if position is None:
            return TableSchema((*self.columns, column))
        columns = list(self.columns)
        columns[position] = column
        return TableSchema(tuple(columns))

    def rename(self, old: str, new: str) -> TableSchema:
        return TableSchema(
            tuple(
                ColumnSchema(new, c.type, c.nullable) if c.name.lower() == old.lower() else c
                for c in self.columns
            )
        )

    def describe(self) -> list[str]:
        return [c.describe() for c in self.columns]

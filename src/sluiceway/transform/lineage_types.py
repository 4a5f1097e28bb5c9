"""The records of lineage: column references, a model column's lineage, graph edges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ColumnKind = Literal["identity", "rename", "derived", "aggregate", "window", "constant"]
"""How an output column is computed from its sources.

``identity``: the source column, same name; ``rename``: the source column under another name;
``derived``: any other expression of its sources; ``aggregate``: an aggregate (``SUM``,
``COUNT(*)`` …) is on the way; ``window``: a window function is on the way (its ``PARTITION BY``
and ``ORDER BY`` columns count as sources); ``constant``: no source column at all.
"""

TableEdgeKind = Literal["load", "model", "transform"]

COLUMN_KINDS: Final[tuple[ColumnKind, ...]] = (
    "identity",
    "rename",
    "derived",
    "aggregate",
    "window",
    "constant",
)
TABLE_EDGE_KINDS: Final[tuple[TableEdgeKind, ...]] = ("load", "model", "transform")


@dataclass(frozen=True, slots=True, order=True)
class ColumnRef:
    """A column of a table: ``table`` is ``schema.table``; both are lower-cased."""

    table: str
    column: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.strip().lower())
        object.__setattr__(self, "column", self.column.strip().lower())
        if not self.table or not self.column:
            raise ValueError(f"a column reference needs a table and a column, got {self!r}")

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"

    @classmethod
    def parse(cls, text: str) -> ColumnRef:
        """``schema.table.column`` → ``ColumnRef("schema.table", "column")``."""
        table, dot, column = text.strip().rpartition(".")
        if not dot:
            raise ValueError(f"expected table.column, got {text!r}")
        return cls(table, column)


@dataclass(frozen=True, slots=True)
class ColumnLineage:
    """Where one output column of a model comes from.

    ``expression`` is DuckDB SQL computing the column, written in terms of the physical source
    columns (``bronze.orders.amount``) once CTEs and derived tables are inlined. A column of a
    set operation reads ``<branch> UNION ALL <branch>``; a subquery in the select list is kept
    as written; a column read from a set operation in a CTE keeps its reference (``u.id``).
    """

    column: str
    sources: tuple[ColumnRef, ...]
    expression: str
    kind: ColumnKind


@dataclass(frozen=True, slots=True)
class TableEdge:
    """A table-level edge: a load (``files:data/*.csv`` → ``bronze.orders``), a model, or a
    transform; ``detail`` says how (a loader's description, a model's name)."""

    source: str
    target: str
    kind: TableEdgeKind
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ColumnEdge:
    """``target`` is computed from ``source`` (and maybe other columns) by ``expression``."""

    source: ColumnRef
    target: ColumnRef
    expression: str
    kind: ColumnKind

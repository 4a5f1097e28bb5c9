"""What changed between two versions of a table's schema, in words people can act on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluiceway.schema.model import ColumnSchema, TableSchema


@dataclass(frozen=True, slots=True)
class TypeChange:
    column: str
    old: str  # SQL spelling, "NULL" while unresolved
    new: str


@dataclass(frozen=True, slots=True)
class NullabilityChange:
    column: str
    old_nullable: bool
    new_nullable: bool


@dataclass(frozen=True, slots=True)
class Rename:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    added: tuple[ColumnSchema, ...] = ()
    removed: tuple[ColumnSchema, ...] = ()
    type_changed: tuple[TypeChange, ...] = ()
    nullability_changed: tuple[NullabilityChange, ...] = ()
    renamed: tuple[Rename, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.type_changed
            or self.nullability_changed
            or self.renamed
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [c.to_dict() for c in self.added],
            "removed": [c.to_dict() for c in self.removed],
            "type_changed": [
                {"column": t.column, "old": t.old, "new": t.new} for t in self.type_changed
            ],
            "nullability_changed": [
                {"column": n.column, "old_nullable": n.old_nullable, "new_nullable": n.new_nullable}
                for n in self.nullability_changed
            ],
            "renamed": [{"old": r.old, "new": r.new} for r in self.renamed],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchemaDiff:
        return cls(
            added=tuple(ColumnSchema.from_dict(c) for c in data.get("added", [])),
            removed=tuple(ColumnSchema.from_dict(c) for c in data.get("removed", [])),
            type_changed=tuple(
                TypeChange(t["column"], t["old"], t["new"]) for t in data.get("type_changed", [])
            ),
            nullability_changed=tuple(
                NullabilityChange(n["column"], n["old_nullable"], n["new_nullable"])
                for n in data.get("nullability_changed", [])
            ),
            renamed=tuple(Rename(r["old"], r["new"]) for r in data.get("renamed", [])),
        )

    def lines(self) -> list[str]:
        """One line per change: ``+ loyalty_tier VARCHAR``, ``~ credit_limit BIGINT → DOUBLE``."""
        out = [f"+ {c.describe()}" for c in self.added]
        out += [f"- {c.describe()}" for c in self.removed]
        out += [f"~ {t.column}: {t.old} → {t.new}" for t in self.type_changed]
        out += [
            f"~ {n.column}: {'NULL' if n.old_nullable else 'NOT NULL'} → "
            f"{'NULL' if n.new_nullable else 'NOT NULL'}"
            for n in self.nullability_changed
        ]
        out += [f"→ {r.old} renamed to {r.new}" for r in self.renamed]
        return out

    def render(self) -> str:
        return "; ".join(self.lines()) if not self.empty else "no changes"


def diff(
    old: TableSchema, new: TableSchema, renames: Mapping[str, str] | None = None
) -> SchemaDiff:
    """Changes from ``old`` to ``new``; ``renames`` (old name → new name) pair columns up."""
    renames = {k.lower(): v for k, v in (renames or {}).items()}
    renamed: list[Rename] = []
    matched_new: set[str] = set()
    pairs: list[tuple[ColumnSchema, ColumnSchema]] = []
    removed: list[ColumnSchema] = []
    for column in old:
        target = new.get(column.name)
        if target is None and column.name.lower() in renames:
            candidate = new.get(renames[column.name.lower()])
            if candidate is not None:
                target = candidate
                renamed.append(Rename(column.name, candidate.name))
        if target is None:
            removed.append(column)
        else:
            matched_new.add(target.name.lower())
            pairs.append((column, target))
    added = tuple(c for c in new if c.name.lower() not in matched_new)
    type_changed = tuple(
        TypeChange(after.name, before.sql_type, after.sql_type)
        for before, after in pairs
        if before.sql_type != after.sql_type
    )
    nullability_changed = tuple(
        NullabilityChange(after.name, before.nullable, after.nullable)
        for before, after in pairs
        if before.nullable != after.nullable
    )
    return SchemaDiff(
        added=added,
        removed=tuple(removed),
        type_changed=type_changed,
        nullability_changed=nullability_changed,
        renamed=tuple(renamed),
    )

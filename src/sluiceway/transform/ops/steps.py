"""What one operation compiles from and to: the relation it reads, the step it makes.

An operation reads a :class:`Relation` (the source table, or the CTE of the operation before
it) whose columns may be known, and makes a :class:`Step`: one SELECT, the columns it outputs
when they can be told, and any helper CTEs it needs (a time spine, bounds). The chain in
:mod:`sluiceway.transform.ops.compile` strings the steps together as CTEs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from sluiceway.transform.ops.errors import OpsError
from sluiceway.transform.ops.expressions import alias, col

Columns = dict[str, str | None]
"""Known columns, in order: name → DuckDB type (``None`` when the type cannot be told)."""


@dataclass(frozen=True)
class Relation:
    """What an operation reads: a table (or CTE) name and its columns when known."""

    source: exp.Table
    columns: Columns | None = None

    def type_of(self, name: str) -> exp.DataType | None:
        """The column's type, when known."""
        text = (self.columns or {}).get(name)
        return exp.DataType.build(text, dialect="duckdb") if text else None


@dataclass
class Step:
    """One operation compiled: its SELECT, output columns (when known) and helper CTEs."""

    select: exp.Select
    columns: Columns | None
    helpers: list[tuple[str, exp.Query]] = field(default_factory=list)


class Names:
    """Fresh CTE names: never one the chain's SQL reads as a table, never one used twice."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self._taken = {name.lower() for name in reserved}

    def fresh(self, base: str) -> str:
        name, number = base, 0
        while name.lower() in self._taken:
            number += 1
            name = f"{base}_{number}"
        self._taken.add(name.lower())
        return name


@dataclass
class Context:
    """One operation's place in the chain: names its errors and helper CTEs."""

    index: int
    op: str
    names: Names

    def error(self, message: str, *, hint: str | None = None) -> OpsError:
        return OpsError(f"ops[{self.index}] ({self.op}): {message}", hint=hint)

    def fresh(self, suffix: str) -> str:
        """A name for a helper CTE of this operation."""
        return self.names.fresh(f"_op{self.index}_{suffix}")

    def check(self, relation: Relation, names: Iterable[str]) -> None:
        """Every name is a column of the input, when the input's columns are known."""
        if relation.columns is None:
            return
        for name in names:
            if name not in relation.columns:
                raise self.error(
                    f"no column {name!r} in the input", hint=_known_hint(name, relation.columns)
                )

    def known(self, relation: Relation, why: str) -> Columns:
        """The input's columns; an error saying ``why`` they are needed when not known."""
        if relation.columns is None:
            raise self.error(
                f"{why}, so the input's columns must be known",
                hint="pass columns={name: type} to compile_ops (a model's input columns)",
            )
        return relation.columns


def _known_hint(name: str, columns: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1)
    close = close or [c for c in columns if c.lower() == name.lower()]
    listed = ", ".join(columns)
    return (
        f"did you mean {close[0]!r}? The columns: {listed}" if close else f"the columns: {listed}"
    )


def with_columns(
    relation: Relation, new: Mapping[str, exp.Expr], types: Mapping[str, str | None]
) -> tuple[list[exp.Expr], Columns | None]:
    """The input's columns with ``new`` ones added (or replacing a column of the same name in
    place), and the output's columns. Without known columns: ``*`` and the new ones."""
    if relation.columns is None:
        return [exp.Star(), *(alias(e, n) for n, e in new.items())], None
    selects: list[exp.Expr] = []
    out: Columns = {}
    for name, kind in relation.columns.items():
        if name in new:
            selects.append(alias(new[name], name))
            out[name] = types.get(name)
        else:
            selects.append(col(name))
            out[name] = kind
    for name, expression in new.items():
        if name not in relation.columns:
            selects.append(alias(expression, name))
            out[name] = types.get(name)
    return selects, out


def select_from(relation: Relation, selects: Iterable[exp.Expr]) -> exp.Select:
    """``SELECT selects FROM relation``."""
    return exp.select(*selects).from_(relation.source.copy(), copy=False)

"""Compatibility modes for a table's schema versions, as a streaming schema registry has them.

When a load would register a new version of a table's schema (the *candidate*), the candidate
is checked against the registered versions under the table's ``compatibility`` mode; a
violation fails the load before anything is written. Think of a *reader* that uses one version
of the schema to read rows *written* under another:

=======================  ======================================================  ===============
mode                     what must hold                                          checked against
=======================  ======================================================  ===============
``BACKWARD``             a reader using the candidate reads rows written under   latest version
                         the old version
``BACKWARD_TRANSITIVE``  the same                                                every version
``FORWARD``              a reader using the old version reads rows written       latest version
                         under the candidate
``FORWARD_TRANSITIVE``   the same                                                every version
``FULL``                 both                                                    latest version
``FULL_TRANSITIVE``      both                                                    every version
``NONE``                 nothing                                                 --
=======================  ======================================================  ===============

Per change from an old version to the candidate:

==================================  ==========  ==========  ==========
change                              BACKWARD    FORWARD     FULL
==================================  ==========  ==========  ==========
add a nullable column               ok          ok          ok
add a NOT NULL column               violation   ok          violation
drop a nullable column              ok          ok          ok
drop a NOT NULL column              ok          violation   violation
widen a type (INTEGER → BIGINT)     ok          violation   violation
narrow a type (DOUBLE → BIGINT)     violation   ok          violation
change a type (VARCHAR ↔ BIGINT)    violation   violation   violation
nullable → NOT NULL                 violation   ok          violation
NOT NULL → nullable                 ok          violation   violation
unresolved ↔ any type               ok          ok          ok
==================================  ==========  ==========  ==========

A type *fits* another when :func:`~sluiceway.schema.promotion.is_widening` says so, except that
a number, date or other non-text value does not fit text: text holds its rendering, but a
reader expecting a number does not expect a string (the contract's ``evolve`` policy refuses
that change for the same reason, and schema registries do too). A column whose type is
unresolved (only NULLs seen so far) fits any type, and any type fits it.

Columns pair up by name, case-insensitively; a column an old version has under a name the
``aliases`` map (old name → current name, following chains of renames) pairs up with the
candidate's column of the current name. A column of the same name takes precedence over an
alias, and each candidate column pairs up with one old column at most.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

import pyarrow as pa

from sluiceway.schema.model import ColumnSchema, TableSchema
from sluiceway.schema.promotion import is_widening

Direction = Literal["backward", "forward"]

_NO_ALIASES: Mapping[str, str] = MappingProxyType({})


class Compatibility(StrEnum):
    """A compatibility mode, spelled as users write it under ``schema: compatibility:``."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def checks_backward(self) -> bool:
        """``True`` if the candidate must read rows written under old versions."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        """``True`` if old versions must read rows written under the candidate."""
        return self.value.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        """``True`` if every registered version is checked, not only the latest."""
        return self.value.endswith("_TRANSITIVE")


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason the candidate is not compatible with one registered version.

    ``column`` is the candidate's name for the column, or the old version's name when the
    candidate has no such column. ``old`` and ``new`` are the column as the old version and the
    candidate have it, ``None`` where that side has no such column.
    """

    version: int
    column: str
    direction: Direction
    reason: str
    old: ColumnSchema | None = None
    new: ColumnSchema | None = None

    def render(self) -> str:
        """One line, e.g. ``version 3, column amount: DOUBLE → BIGINT (backward): …``."""
        name = self.column
        if self.old is not None and self.new is not None and _renamed(self.old, self.new):
            name = f"{self.new.name} ({self.old.name} in version {self.version})"
        return (
            f"version {self.version}, column {name}: {_spelled(self.old)} → "
            f"{_spelled(self.new)} ({self.direction}): {self.reason}"
        )


def check_compatibility(
    candidate: TableSchema,
    history: Sequence[tuple[int, TableSchema]],
    mode: Compatibility,
    aliases: Mapping[str, str] = _NO_ALIASES,
) -> list[Violation]:
    """Every way ``candidate`` breaks ``mode`` against ``history`` (oldest version first).

    Violations come by version (in ``history``'s order), then by column: the candidate's
    columns in table order, then the columns only the old version has, in its order; for one
    column, backward before forward.

    >>> import pyarrow as pa
    >>> from sluiceway.schema.model import ColumnSchema as C, TableSchema as T
    >>> old = T((C("id", pa.int64(), nullable=False), C("amount", pa.float64())))
    >>> new = T((C("id", pa.int64(), nullable=False), C("amount", pa.int64())))
    >>> found = check_compatibility(new, [(1, old)], Compatibility.FULL)
    >>> [(v.version, v.column, v.direction) for v in found]
    [(1, 'amount', 'backward')]
    """
    if mode is Compatibility.NONE or not history:
        return []
    versions = history if mode.transitive else history[-1:]
    folded = {old.lower(): new for old, new in aliases.items()}
    return [
        violation
        for version, schema in versions
        for old, new in _pair_columns(schema, candidate, folded)
        for violation in _column_violations(version, old, new, mode)
    ]


def render_violations(violations: Sequence[Violation], mode: Compatibility) -> str:
    """The violations, one per line, then what ``mode`` allows, for an error message."""
    lines = [f"  - {v.render()}" for v in violations]
    lines.append(_allowed(mode))
    if any(v.old is None or v.new is None for v in violations):
        lines.append(
            "A renamed column pairs up with its old name only when the rename is declared "
            "(`schema: renames: {old_name: new_name}`)."
        )
    return "\n".join(lines)


def _pair_columns(
    old: TableSchema, new: TableSchema, aliases: Mapping[str, str] = _NO_ALIASES
) -> list[tuple[ColumnSchema | None, ColumnSchema | None]]:
    """``(old column, new column)`` pairs: ``new``'s columns in order, then those only in ``old``.

    ``aliases`` maps an old name to its current name, keys in lower case.
    """
    matches: dict[str, ColumnSchema] = {}  # old name (lower) → new column
    taken: set[str] = set()
    for column in old:
        same = new.get(column.name)
        if same is not None:
            matches[column.name.lower()] = same
            taken.add(same.name.lower())
    for column in old:
        if column.name.lower() in matches:
            continue
        renamed = _current_column(column.name, new, aliases)
        if renamed is not None and renamed.name.lower() not in taken:
            matches[column.name.lower()] = renamed
            taken.add(renamed.name.lower())
    old_of = {target.name.lower(): old.get(name) for name, target in matches.items()}
    pairs: list[tuple[ColumnSchema | None, ColumnSchema | None]] = [
        (old_of.get(column.name.lower()), column) for column in new
    ]
    pairs += [(column, None) for column in old if column.name.lower() not in matches]
    return pairs


def _current_column(name: str, new: TableSchema, aliases: Mapping[str, str]) -> ColumnSchema | None:
    """The column of ``new`` that ``name`` was renamed to, following renames of renames."""
    seen = {name.lower()}
    current = aliases.get(name.lower())
    while current is not None and current.lower() not in seen:
        column = new.get(current)
        if column is not None:
            return column
        seen.add(current.lower())
        current = aliases.get(current.lower())
    return None


def _column_violations(
    version: int, old: ColumnSchema | None, new: ColumnSchema | None, mode: Compatibility
) -> Iterator[Violation]:
    if mode.checks_backward:
        for reason in _backward_reasons(version, old, new):
            yield _violation(version, old, new, "backward", reason)
    if mode.checks_forward:
        for reason in _forward_reasons(version, old, new):
            yield _violation(version, old, new, "forward", reason)


def _violation(
    version: int,
    old: ColumnSchema | None,
    new: ColumnSchema | None,
    direction: Direction,
    reason: str,
) -> Violation:
    named = new if new is not None else old
    assert named is not None  # a pair always has at least one side
    return Violation(version, named.name, direction, reason, old, new)


def _backward_reasons(
    version: int, old: ColumnSchema | None, new: ColumnSchema | None
) -> Iterator[str]:
    """Why a reader using ``new`` cannot read the column in rows written under ``old``."""
    if new is None:
        return  # the reader ignores what it does not know
    if old is None:
        if not new.nullable:
            yield f"rows written under version {version} have no value for this NOT NULL column"
        return
    if not _fits(old.type, new.type):
        yield f"{_type(old)} values written under version {version} do not all fit {_type(new)}"
    if old.nullable and not new.nullable:
        yield f"rows written under version {version} may hold NULL, which NOT NULL forbids"


def _forward_reasons(
    version: int, old: ColumnSchema | None, new: ColumnSchema | None
) -> Iterator[str]:
    """Why a reader using ``old`` cannot read the column in rows written under ``new``."""
    if old is None:
        return  # the reader ignores what it does not know
    if new is None:
        if not old.nullable:
            yield f"readers using version {version} need a value, and new rows have none"
        return
    if not _fits(new.type, old.type):
        yield (
            f"{_type(new)} values written now do not all fit {_type(old)}, its type in "
            f"version {version}"
        )
    if not old.nullable and new.nullable:
        yield f"new rows may hold NULL, which readers using version {version} do not expect"


def _fits(source: pa.DataType | None, target: pa.DataType | None) -> bool:
    """``True`` if a reader expecting ``target`` reads ``source`` values unchanged.

    Unresolved types (``None``) fit anything; a non-text value does not fit text.
    """
    if source is None or target is None:
        return True
    if _is_text(target) and not _is_text(source):
        return False
    return is_widening(source, target)


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _renamed(old: ColumnSchema, new: ColumnSchema) -> bool:
    return old.name.lower() != new.name.lower()


def _type(column: ColumnSchema) -> str:
    return "unresolved" if column.type is None else column.sql_type


def _spelled(column: ColumnSchema | None) -> str:
    if column is None:
        return "absent"
    return _type(column) + ("" if column.nullable else " NOT NULL")


_ALLOWS = {
    "BACKWARD": "the new schema must read rows written under {scope}: it may drop columns, "
    "add nullable columns, widen types (INTEGER → BIGINT → DOUBLE) and make a column "
    "nullable; it may not add a NOT NULL column, narrow or change a type, or make a column "
    "NOT NULL.",
    "FORWARD": "{scope} must read rows written under the new schema: it may add columns, "
    "drop nullable columns, narrow types (DOUBLE → BIGINT) and make a column NOT NULL; it may "
    "not drop a NOT NULL column, widen or change a type, or make a NOT NULL column nullable.",
    "FULL": "the new schema must read rows written under {scope} and the other way round: "
    "it may add or drop nullable columns; types and nullability stay as they are.",
}


def _allowed(mode: Compatibility) -> str:
    """What ``mode`` allows, in one sentence."""
    if mode is Compatibility.NONE:
        return "NONE: any change is allowed."
    scope = "every registered version" if mode.transitive else "the latest registered version"
    rule = _ALLOWS[mode.value.removesuffix("_TRANSITIVE")].format(scope=scope)
    return f"{mode.value}: {rule[0].upper()}{rule[1:]}"

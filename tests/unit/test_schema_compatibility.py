"""Compatibility modes: every kind of change under every mode, with the exact violations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import get_args

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluiceway.schema.compatibility import (
    Compatibility,
    Violation,
    check_compatibility,
    render_violations,
)
from sluiceway.schema.model import ColumnSchema, TableSchema
from sluiceway.schema.promotion import promote
from sluiceway.spec.contract import CompatibilityMode

pytestmark = pytest.mark.unit

INTEGER = pa.int32()
BIGINT = pa.int64()
DOUBLE = pa.float64()
VARCHAR = pa.string()

ALL_MODES = list(Compatibility)
BACKWARD_MODES = frozenset(
    {
        Compatibility.BACKWARD,
        Compatibility.BACKWARD_TRANSITIVE,
        Compatibility.FULL,
        Compatibility.FULL_TRANSITIVE,
    }
)
FORWARD_MODES = frozenset(
    {
        Compatibility.FORWARD,
        Compatibility.FORWARD_TRANSITIVE,
        Compatibility.FULL,
        Compatibility.FULL_TRANSITIVE,
    }
)

NO_ALIASES: Mapping[str, str] = {}


def col(name: str, type_: pa.DataType | None, *, nullable: bool = True) -> ColumnSchema:
    return ColumnSchema(name, type_, nullable)


def table(*columns: ColumnSchema) -> TableSchema:
    return TableSchema(columns)


def check(
    old: TableSchema,
    new: TableSchema,
    mode: Compatibility,
    aliases: Mapping[str, str] = NO_ALIASES,
) -> list[Violation]:
    """``new`` checked against a history of one version, number 1: ``old``."""
    return check_compatibility(new, [(1, old)], mode, aliases)


def expected(
    mode: Compatibility, backward: Sequence[Violation], forward: Sequence[Violation]
) -> list[Violation]:
    """For a change to one column: what the mode checks, backward first."""
    return [
        *(backward if mode in BACKWARD_MODES else []),
        *(forward if mode in FORWARD_MODES else []),
    ]


ID = col("id", BIGINT, nullable=False)


# -- the modes ---------------------------------------------------------------------------------


def test_the_modes_are_spelled_as_the_contract_accepts_them() -> None:
    assert {m.value for m in Compatibility} == set(get_args(CompatibilityMode))
    assert Compatibility("FULL_TRANSITIVE") is Compatibility.FULL_TRANSITIVE


@pytest.mark.parametrize(
    ("mode", "backward", "forward", "transitive"),
    [
        (Compatibility.BACKWARD, True, False, False),
        (Compatibility.BACKWARD_TRANSITIVE, True, False, True),
        (Compatibility.FORWARD, False, True, False),
        (Compatibility.FORWARD_TRANSITIVE, False, True, True),
        (Compatibility.FULL, True, True, False),
        (Compatibility.FULL_TRANSITIVE, True, True, True),
        (Compatibility.NONE, False, False, False),
    ],
)
def test_what_each_mode_checks(
    mode: Compatibility, backward: bool, forward: bool, transitive: bool
) -> None:
    assert (mode.checks_backward, mode.checks_forward, mode.transitive) == (
        backward,
        forward,
        transitive,
    )


@pytest.mark.parametrize("mode", ALL_MODES)
def test_an_empty_history_has_nothing_to_break(mode: Compatibility) -> None:
    assert check_compatibility(table(col("x", VARCHAR, nullable=False)), [], mode) == []


# -- adding and removing columns ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_adding_a_nullable_column_is_compatible_under_every_mode(mode: Compatibility) -> None:
    assert check(table(ID), table(ID, col("note", VARCHAR)), mode) == []


@pytest.mark.parametrize("mode", ALL_MODES)
def test_adding_a_not_null_column_breaks_backward(mode: Compatibility) -> None:
    tier = col("tier", VARCHAR, nullable=False)
    backward = Violation(
        1,
        "tier",
        "backward",
        "rows written under version 1 have no value for this NOT NULL column",
        None,
        tier,
    )
    assert check(table(ID), table(ID, tier), mode) == expected(mode, [backward], [])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_removing_a_nullable_column_is_compatible_under_every_mode(mode: Compatibility) -> None:
    assert check(table(ID, col("note", VARCHAR)), table(ID), mode) == []


@pytest.mark.parametrize("mode", ALL_MODES)
def test_removing_a_not_null_column_breaks_forward(mode: Compatibility) -> None:
    code = col("code", VARCHAR, nullable=False)
    forward = Violation(
        1,
        "code",
        "forward",
        "readers using version 1 need a value, and new rows have none",
        code,
        None,
    )
    assert check(table(ID, code), table(ID), mode) == expected(mode, [], [forward])


# -- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_widening_integer_to_bigint_breaks_forward(mode: Compatibility) -> None:
    old, new = col("qty", INTEGER), col("qty", BIGINT)
    forward = Violation(
        1,
        "qty",
        "forward",
        "BIGINT values written now do not all fit INTEGER, its type in version 1",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [], [forward])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_widening_bigint_to_double_breaks_forward(mode: Compatibility) -> None:
    old, new = col("amount", BIGINT), col("amount", DOUBLE)
    forward = Violation(
        1,
        "amount",
        "forward",
        "DOUBLE values written now do not all fit BIGINT, its type in version 1",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [], [forward])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_narrowing_double_to_bigint_breaks_backward(mode: Compatibility) -> None:
    old, new = col("amount", DOUBLE), col("amount", BIGINT)
    backward = Violation(
        1,
        "amount",
        "backward",
        "DOUBLE values written under version 1 do not all fit BIGINT",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [backward], [])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_varchar_to_bigint_breaks_both_directions(mode: Compatibility) -> None:
    old, new = col("zip", VARCHAR), col("zip", BIGINT)
    backward = Violation(
        1,
        "zip",
        "backward",
        "VARCHAR values written under version 1 do not all fit BIGINT",
        old,
        new,
    )
    forward = Violation(
        1,
        "zip",
        "forward",
        "BIGINT values written now do not all fit VARCHAR, its type in version 1",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [backward], [forward])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_bigint_to_varchar_breaks_both_directions(mode: Compatibility) -> None:
    # Text could hold the numbers' renderings, but a reader expecting a number gets a string.
    old, new = col("zip", BIGINT), col("zip", VARCHAR)
    backward = Violation(
        1,
        "zip",
        "backward",
        "BIGINT values written under version 1 do not all fit VARCHAR",
        old,
        new,
    )
    forward = Violation(
        1,
        "zip",
        "forward",
        "VARCHAR values written now do not all fit BIGINT, its type in version 1",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [backward], [forward])


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize(
    ("before", "after"),
    [(None, BIGINT), (BIGINT, None), (None, VARCHAR), (VARCHAR, None), (None, None)],
)
def test_an_unresolved_type_is_compatible_with_any_type(
    mode: Compatibility, before: pa.DataType | None, after: pa.DataType | None
) -> None:
    assert check(table(ID, col("x", before)), table(ID, col("x", after)), mode) == []


@pytest.mark.parametrize("mode", ALL_MODES)
def test_an_unresolved_column_still_has_its_nullability_checked(mode: Compatibility) -> None:
    old, new = col("x", None), col("x", BIGINT, nullable=False)
    backward = Violation(
        1,
        "x",
        "backward",
        "rows written under version 1 may hold NULL, which NOT NULL forbids",
        old,
        new,
    )
    assert check(table(old), table(new), mode) == expected(mode, [backward], [])


# -- nullability -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_nullable_to_not_null_breaks_backward(mode: Compatibility) -> None:
    old, new = col("email", VARCHAR), col("email", VARCHAR, nullable=False)
    backward = Violation(
        1,
        "email",
        "backward",
        "rows written under version 1 may hold NULL, which NOT NULL forbids",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [backward], [])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_not_null_to_nullable_breaks_forward(mode: Compatibility) -> None:
    old, new = col("email", VARCHAR, nullable=False), col("email", VARCHAR)
    forward = Violation(
        1,
        "email",
        "forward",
        "new rows may hold NULL, which readers using version 1 do not expect",
        old,
        new,
    )
    assert check(table(ID, old), table(ID, new), mode) == expected(mode, [], [forward])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_type_and_a_nullability_change_are_both_reported(mode: Compatibility) -> None:
    old, new = col("amount", DOUBLE), col("amount", BIGINT, nullable=False)
    backward = [
        Violation(
            1,
            "amount",
            "backward",
            "DOUBLE values written under version 1 do not all fit BIGINT",
            old,
            new,
        ),
        Violation(
            1,
            "amount",
            "backward",
            "rows written under version 1 may hold NULL, which NOT NULL forbids",
            old,
            new,
        ),
    ]
    assert check(table(old), table(new), mode) == expected(mode, backward, [])


# -- renames -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_declared_rename_pairs_the_old_and_new_names(mode: Compatibility) -> None:
    old = table(ID, col("phone", VARCHAR, nullable=False))
    new = table(ID, col("phone_number", VARCHAR, nullable=False))
    assert check(old, new, mode, {"Phone": "PHONE_NUMBER"}) == []


@pytest.mark.parametrize("mode", ALL_MODES)
def test_an_undeclared_rename_is_a_removed_and_an_added_column(mode: Compatibility) -> None:
    phone = col("phone", VARCHAR, nullable=False)
    phone_number = col("phone_number", VARCHAR, nullable=False)
    added = Violation(
        1,
        "phone_number",
        "backward",
        "rows written under version 1 have no value for this NOT NULL column",
        None,
        phone_number,
    )
    removed = Violation(
        1,
        "phone",
        "forward",
        "readers using version 1 need a value, and new rows have none",
        phone,
        None,
    )
    assert check(table(ID, phone), table(ID, phone_number), mode) == expected(
        mode, [added], [removed]
    )


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_renamed_column_has_its_type_checked_under_its_new_name(mode: Compatibility) -> None:
    phone, phone_number = col("phone", BIGINT), col("phone_number", VARCHAR)
    backward = Violation(
        1,
        "phone_number",
        "backward",
        "BIGINT values written under version 1 do not all fit VARCHAR",
        phone,
        phone_number,
    )
    forward = Violation(
        1,
        "phone_number",
        "forward",
        "VARCHAR values written now do not all fit BIGINT, its type in version 1",
        phone,
        phone_number,
    )
    result = check(table(phone), table(phone_number), mode, {"phone": "phone_number"})
    assert result == expected(mode, [backward], [forward])


def test_renames_of_renames_are_followed() -> None:
    old = table(col("phone", VARCHAR, nullable=False))
    new = table(col("mobile", VARCHAR, nullable=False))
    aliases = {"phone": "phone_number", "phone_number": "mobile"}
    assert check(old, new, Compatibility.FULL, aliases) == []


def test_a_cycle_of_aliases_ends() -> None:
    a = col("a", VARCHAR, nullable=False)
    result = check(table(a), table(), Compatibility.FULL, {"a": "b", "b": "a"})
    assert result == [
        Violation(
            1,
            "a",
            "forward",
            "readers using version 1 need a value, and new rows have none",
            a,
            None,
        )
    ]


def test_a_column_of_the_same_name_takes_precedence_over_an_alias() -> None:
    phone = col("phone", VARCHAR, nullable=False)
    phone_number = col("phone_number", BIGINT, nullable=False)
    old = table(phone, phone_number)
    new = table(phone_number)
    # phone_number pairs with itself; phone has nothing left to pair with.
    assert check(old, new, Compatibility.FULL, {"phone": "phone_number"}) == [
        Violation(
            1,
            "phone",
            "forward",
            "readers using version 1 need a value, and new rows have none",
            phone,
            None,
        )
    ]


def test_names_pair_up_case_insensitively() -> None:
    old = table(col("Amount", BIGINT, nullable=False))
    new = table(col("AMOUNT", BIGINT, nullable=False))
    assert check(old, new, Compatibility.FULL_TRANSITIVE) == []


# -- transitive and non-transitive -------------------------------------------------------------

# Version 1 had `code VARCHAR NOT NULL`; version 2 dropped it; the candidate adds it back as a
# nullable BIGINT. That is an added nullable column to version 2, a type change to version 1.
CODE_V1 = col("code", VARCHAR, nullable=False)
CODE_NOW = col("code", BIGINT)
READDED = [
    (1, table(ID, CODE_V1)),
    (2, table(ID)),
]
READDED_BACKWARD = [
    Violation(
        1,
        "code",
        "backward",
        "VARCHAR values written under version 1 do not all fit BIGINT",
        CODE_V1,
        CODE_NOW,
    )
]
READDED_FORWARD = [
    Violation(
        1,
        "code",
        "forward",
        "BIGINT values written now do not all fit VARCHAR, its type in version 1",
        CODE_V1,
        CODE_NOW,
    ),
    Violation(
        1,
        "code",
        "forward",
        "new rows may hold NULL, which readers using version 1 do not expect",
        CODE_V1,
        CODE_NOW,
    ),
]


@pytest.mark.parametrize(
    ("mode", "violations"),
    [
        (Compatibility.BACKWARD, []),
        (Compatibility.BACKWARD_TRANSITIVE, READDED_BACKWARD),
        (Compatibility.FORWARD, []),
        (Compatibility.FORWARD_TRANSITIVE, READDED_FORWARD),
        (Compatibility.FULL, []),
        (Compatibility.FULL_TRANSITIVE, READDED_BACKWARD + READDED_FORWARD),
        (Compatibility.NONE, []),
    ],
)
def test_only_transitive_modes_look_past_the_latest_version(
    mode: Compatibility, violations: list[Violation]
) -> None:
    assert check_compatibility(table(ID, CODE_NOW), READDED, mode) == violations


def test_violations_come_by_version_then_candidate_columns_then_removed_ones() -> None:
    a_v1 = col("a", DOUBLE)
    gone = col("gone", VARCHAR, nullable=False)
    a_v2 = col("a", DOUBLE, nullable=False)
    history = [(1, table(gone, a_v1)), (2, table(a_v2))]
    a_now = col("a", BIGINT)
    b_now = col("b", VARCHAR, nullable=False)
    assert check_compatibility(table(a_now, b_now), history, Compatibility.FULL_TRANSITIVE) == [
        Violation(
            1,
            "a",
            "backward",
            "DOUBLE values written under version 1 do not all fit BIGINT",
            a_v1,
            a_now,
        ),
        Violation(
            1,
            "b",
            "backward",
            "rows written under version 1 have no value for this NOT NULL column",
            None,
            b_now,
        ),
        Violation(
            1,
            "gone",
            "forward",
            "readers using version 1 need a value, and new rows have none",
            gone,
            None,
        ),
        Violation(
            2,
            "a",
            "backward",
            "DOUBLE values written under version 2 do not all fit BIGINT",
            a_v2,
            a_now,
        ),
        Violation(
            2,
            "a",
            "forward",
            "new rows may hold NULL, which readers using version 2 do not expect",
            a_v2,
            a_now,
        ),
        Violation(
            2,
            "b",
            "backward",
            "rows written under version 2 have no value for this NOT NULL column",
            None,
            b_now,
        ),
    ]


# -- messages ----------------------------------------------------------------------------------


def test_a_violation_renders_as_one_line_with_both_sides() -> None:
    violation = Violation(
        3,
        "amount",
        "backward",
        "DOUBLE values written under version 3 do not all fit BIGINT",
        col("amount", DOUBLE),
        col("amount", BIGINT, nullable=False),
    )
    assert violation.render() == (
        "version 3, column amount: DOUBLE → BIGINT NOT NULL (backward): "
        "DOUBLE values written under version 3 do not all fit BIGINT"
    )


def test_a_missing_side_renders_as_absent_and_an_unresolved_type_as_unresolved() -> None:
    added = Violation(2, "x", "backward", "why", None, col("x", None, nullable=False))
    removed = Violation(2, "y", "forward", "why", col("y", VARCHAR, nullable=False), None)
    assert added.render() == "version 2, column x: absent → unresolved NOT NULL (backward): why"
    assert removed.render() == "version 2, column y: VARCHAR NOT NULL → absent (forward): why"


def test_a_renamed_column_renders_with_its_old_name() -> None:
    [violation] = check(
        table(col("phone", BIGINT)),
        table(col("phone_number", VARCHAR)),
        Compatibility.BACKWARD,
        {"phone": "phone_number"},
    )
    assert violation.render() == (
        "version 1, column phone_number (phone in version 1): BIGINT → VARCHAR (backward): "
        "BIGINT values written under version 1 do not all fit VARCHAR"
    )


def test_the_message_lists_the_violations_and_what_the_mode_allows() -> None:
    old = table(ID, col("amount", DOUBLE))
    new = table(ID, col("amount", BIGINT))
    violations = check(old, new, Compatibility.BACKWARD)
    assert render_violations(violations, Compatibility.BACKWARD) == (
        "  - version 1, column amount: DOUBLE → BIGINT (backward): DOUBLE values written under "
        "version 1 do not all fit BIGINT\n"
        "BACKWARD: The new schema must read rows written under the latest registered version: "
        "it may drop columns, add nullable columns, widen types (INTEGER → BIGINT → DOUBLE) and "
        "make a column nullable; it may not add a NOT NULL column, narrow or change a type, or "
        "make a column NOT NULL."
    )


def test_the_message_hints_at_declaring_renames_when_a_column_is_missing_on_one_side() -> None:
    old = table(ID, col("phone", VARCHAR, nullable=False))
    new = table(ID, col("phone_number", VARCHAR, nullable=False))
    violations = check(old, new, Compatibility.FULL_TRANSITIVE)
    assert render_violations(violations, Compatibility.FULL_TRANSITIVE).splitlines() == [
        "  - version 1, column phone_number: absent → VARCHAR NOT NULL (backward): rows written "
        "under version 1 have no value for this NOT NULL column",
        "  - version 1, column phone: VARCHAR NOT NULL → absent (forward): readers using "
        "version 1 need a value, and new rows have none",
        "FULL_TRANSITIVE: The new schema must read rows written under every registered version "
        "and the other way round: it may add or drop nullable columns; types and nullability "
        "stay as they are.",
        "A renamed column pairs up with its old name only when the rename is declared "
        "(`schema: renames: {old_name: new_name}`).",
    ]


@pytest.mark.parametrize(
    ("mode", "first_words"),
    [
        (Compatibility.FORWARD, "FORWARD: The latest registered version must read rows"),
        (Compatibility.FORWARD_TRANSITIVE, "FORWARD_TRANSITIVE: Every registered version must"),
        (Compatibility.BACKWARD_TRANSITIVE, "BACKWARD_TRANSITIVE: The new schema must read rows "),
        (Compatibility.FULL, "FULL: The new schema must read rows written under the latest "),
        (Compatibility.NONE, "NONE: any change is allowed."),
    ],
)
def test_each_mode_says_what_it_allows(mode: Compatibility, first_words: str) -> None:
    assert render_violations([], mode).startswith(first_words)


# -- properties --------------------------------------------------------------------------------

TYPES: list[pa.DataType | None] = [
    None,
    pa.bool_(),
    pa.int8(),
    pa.int16(),
    INTEGER,
    BIGINT,
    pa.uint8(),
    pa.uint32(),
    pa.float32(),
    DOUBLE,
    pa.decimal128(10, 2),
    pa.decimal128(5, 4),
    VARCHAR,
    pa.date32(),
    pa.timestamp("ms"),
    pa.timestamp("us"),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("ms", tz="Europe/Paris"),
]
NAMES = ["id", "amount", "note", "code", "tier", "zip"]

names = st.sampled_from(NAMES).flatmap(lambda n: st.sampled_from([n, n.upper()]))
types = st.sampled_from(TYPES)


@st.composite
def schemas(draw: st.DrawFn) -> TableSchema:
    chosen = draw(st.lists(names, unique_by=str.lower, max_size=len(NAMES)))
    return TableSchema(tuple(col(n, draw(types), nullable=draw(st.booleans())) for n in chosen))


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, TableSchema]]:
    return [(n, draw(schemas())) for n in range(1, draw(st.integers(1, 3)) + 1)]


aliases_maps = st.dictionaries(names, names, max_size=3)


@given(schemas(), histories(), aliases_maps)
def test_none_never_reports(
    candidate: TableSchema, history: list[tuple[int, TableSchema]], aliases: dict[str, str]
) -> None:
    assert check_compatibility(candidate, history, Compatibility.NONE, aliases) == []


@given(schemas(), histories(), aliases_maps, st.booleans())
def test_full_reports_exactly_what_backward_and_forward_report(
    candidate: TableSchema,
    history: list[tuple[int, TableSchema]],
    aliases: dict[str, str],
    transitive: bool,
) -> None:
    suffix = "_TRANSITIVE" if transitive else ""
    full, backward, forward = (
        check_compatibility(candidate, history, Compatibility(kind + suffix), aliases)
        for kind in ("FULL", "BACKWARD", "FORWARD")
    )
    assert [v for v in full if v.direction == "backward"] == backward
    assert [v for v in full if v.direction == "forward"] == forward
    assert len(full) == len(backward) + len(forward)


@given(schemas(), aliases_maps, st.integers(1, 3))
def test_a_schema_is_compatible_with_itself_under_every_mode(
    schema: TableSchema, aliases: dict[str, str], versions: int
) -> None:
    history = [(n, schema) for n in range(1, versions + 1)]
    for mode in Compatibility:
        assert check_compatibility(schema, history, mode, aliases) == []


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t))


def _widened(source: pa.DataType | None, other: pa.DataType | None) -> pa.DataType | None:
    """``source`` widened to also hold ``other``, as the contract's ``evolve`` does.

    An unresolved column takes any type; a non-text column never becomes text.
    """
    if source is None:
        return other
    if other is None:
        return source
    common = promote(source, other)
    if common is None or (_is_text(common) and not _is_text(source)):
        return source
    return common


@st.composite
def widenings(draw: st.DrawFn) -> tuple[TableSchema, TableSchema]:
    """A schema, and the schema after widening types and adding nullable columns."""
    source = draw(schemas())
    columns = [
        col(
            c.name,
            _widened(c.type, draw(types)),
            nullable=c.nullable or draw(st.booleans()),
        )
        for c in source
    ]
    for name in draw(st.lists(names, unique_by=str.lower)):
        if name not in source:
            columns.append(col(name, draw(types)))
    return source, TableSchema(tuple(columns))


@given(widenings())
def test_adding_nullable_columns_and_widening_types_is_backward_compatible(
    change: tuple[TableSchema, TableSchema],
) -> None:
    source, candidate = change
    for mode in (Compatibility.BACKWARD, Compatibility.BACKWARD_TRANSITIVE):
        assert check_compatibility(candidate, [(1, source)], mode) == []

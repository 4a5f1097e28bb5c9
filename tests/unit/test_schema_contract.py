"""The contract planner: every policy and change, with the exact plan or error it produces."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from sluiceway.core.errors import SchemaError
from sluiceway.core.names import TableRef
from sluiceway.schema.contract import (
    AddColumn,
    Cast,
    ContractPlan,
    DropNotNull,
    RegisteredSchema,
    RenameColumn,
    SetColumnType,
    plan_contract,
    variant_name,
)
from sluiceway.schema.model import ColumnSchema, TableSchema
from sluiceway.spec.contract import SchemaContract

pytestmark = pytest.mark.unit

REF = TableRef("customers", "bronze")


def table(*columns: tuple[str, pa.DataType | None] | ColumnSchema) -> TableSchema:
    return TableSchema(
        tuple(c if isinstance(c, ColumnSchema) else ColumnSchema(c[0], c[1]) for c in columns)
    )


def incoming(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema(list(fields))


def plan(
    data: pa.Schema,
    current: TableSchema | None,
    registered: RegisteredSchema | None = None,
    **contract: Any,
) -> ContractPlan:
    return plan_contract(
        data,
        current,
        registered or RegisteredSchema(),
        SchemaContract.model_validate(contract),
        ref=REF,
    )


def test_a_new_table_takes_the_data_as_it_is() -> None:
    result = plan(incoming(("id", pa.int64()), ("name", pa.string())), None)
    assert result.before is None
    assert result.after == table(("id", pa.int64()), ("name", pa.string()))
    assert result.changes == ()
    assert result.diff.lines() == ["+ id BIGINT", "+ name VARCHAR"]
    assert result.batch.identity
    assert result.changed


def test_the_same_schema_changes_nothing() -> None:
    current = table(("id", pa.int64()), ("name", pa.string()))
    result = plan(incoming(("id", pa.int64()), ("name", pa.string())), current)
    assert (result.changes, result.diff.empty, result.changed) == ((), True, False)
    assert result.batch.identity


def test_data_narrower_than_the_table_fits_without_a_change() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    result = plan(incoming(("id", pa.int32()), ("amount", pa.int64())), current)
    assert result.changes == ()
    assert not result.changed


# -- evolve --------------------------------------------------------------------------------


def test_evolve_adds_new_columns_at_the_end() -> None:
    current = table(("id", pa.int64()))
    result = plan(incoming(("tier", pa.string()), ("id", pa.int64())), current)
    assert result.changes == (AddColumn(ColumnSchema("tier", pa.string())),)
    assert result.after.names == ["id", "tier"]
    assert result.diff.lines() == ["+ tier VARCHAR"]
    assert result.notes == ("tier: new column, added as VARCHAR",)


def test_evolve_widens_in_place() -> None:
    current = table(("id", pa.int64()), ("credit_limit", pa.int64()))
    result = plan(incoming(("id", pa.int64()), ("credit_limit", pa.float64())), current)
    assert result.changes == (SetColumnType("credit_limit", pa.float64()),)
    assert result.diff.lines() == ["~ credit_limit: BIGINT → DOUBLE"]
    assert result.notes == ("credit_limit: widened from BIGINT to DOUBLE",)


def test_evolve_puts_an_incompatible_type_in_a_variant_column_and_says_so() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    result = plan(incoming(("id", pa.int64()), ("amount", pa.string())), current)
    assert variant_name("amount", pa.string()) == "amount__v_varchar"
    assert result.changes == (AddColumn(ColumnSchema("amount__v_varchar", pa.string())),)
    assert result.batch.routes == {"amount": "amount__v_varchar"}
    assert result.batch.output.names == ["id", "amount__v_varchar"]
    assert result.after.names == ["id", "amount", "amount__v_varchar"]
    assert result.notes == (
        "amount: VARCHAR does not fit the table's DOUBLE; this load's values go to the variant "
        "column amount__v_varchar",
    )


def test_a_number_column_is_not_widened_into_text() -> None:
    current = table(("code", pa.int64()))
    result = plan(incoming(("code", pa.string())), current)
    assert result.batch.routes == {"code": "code__v_varchar"}
    assert SetColumnType("code", pa.string()) not in result.changes


def test_a_variant_column_from_an_earlier_load_is_reused() -> None:
    current = table(("amount", pa.float64()), ("amount__v_varchar", pa.string()))
    result = plan(incoming(("amount", pa.string())), current)
    assert result.changes == ()
    assert result.batch.routes == {"amount": "amount__v_varchar"}


def test_columns_missing_from_the_data_stay_and_become_nullable() -> None:
    current = table(("id", pa.int64()), ColumnSchema("phone", pa.string(), nullable=False))
    result = plan(incoming(("id", pa.int64())), current)
    assert result.changes == (DropNotNull("phone"),)
    assert result.after == table(("id", pa.int64()), ("phone", pa.string()))
    assert result.diff.lines() == ["~ phone: NOT NULL → NULL"]


# -- freeze --------------------------------------------------------------------------------


def test_freeze_refuses_every_difference_with_the_full_diff() -> None:
    current = table(("id", pa.int64()), ("amount", pa.int64()), ("phone", pa.string()))
    data = incoming(("id", pa.int64()), ("amount", pa.float64()), ("tier", pa.string()))
    with pytest.raises(SchemaError) as caught:
        plan(data, current, policy="freeze")
    assert caught.value.message == (
        "the data does not match table bronze.customers (policy: freeze):\n"
        "  amount: DOUBLE would widen the table's BIGINT\n"
        "  new column tier VARCHAR\n"
        "  column missing from the data: phone VARCHAR"
    )


def test_freeze_accepts_data_that_fits_the_table() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    result = plan(incoming(("id", pa.int16()), ("amount", pa.int32())), current, policy="freeze")
    assert result.changes == ()


# -- discard_row and discard_column ----------------------------------------------------------


def test_discard_row_sends_rows_with_unknown_values_or_misfits_to_the_dlq() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    data = incoming(("id", pa.int64()), ("amount", pa.string()), ("tier", pa.string()))
    result = plan(data, current, policy="discard_row")
    assert result.changes == ()
    assert result.batch.reject_if_set == ("tier",)
    assert result.batch.drops == ("tier",)
    (cast,) = result.batch.casts
    assert (cast.column, cast.type, cast.reason) == ("amount", pa.float64(), "schema")
    assert result.batch.output.names == ["id", "amount"]
    assert result.batch.output.field("amount").type == pa.float64()


def test_discard_column_drops_what_does_not_fit_and_records_it() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    data = incoming(("id", pa.int64()), ("amount", pa.string()), ("tier", pa.string()))
    result = plan(data, current, policy="discard_column")
    assert result.changes == ()
    assert result.batch.drops == ("amount", "tier")
    assert result.batch.output.names == ["id"]
    assert result.notes == (
        "amount: VARCHAR does not fit DOUBLE; column dropped",
        "tier: not in the table; dropped (discard_column)",
    )


def test_a_column_can_have_a_policy_of_its_own() -> None:
    current = table(("id", pa.int64()), ("amount", pa.int64()))
    data = incoming(("id", pa.int64()), ("amount", pa.float64()), ("tier", pa.string()))
    with pytest.raises(SchemaError, match="amount: DOUBLE would widen the table's BIGINT"):
        plan(data, current, columns={"amount": {"policy": "freeze"}})
    result = plan(
        data,
        current,
        policy="freeze",
        columns={"amount": {"policy": "evolve"}, "tier": {"policy": "evolve"}},
    )
    assert result.changes == (
        SetColumnType("amount", pa.float64()),
        AddColumn(ColumnSchema("tier", pa.string())),
    )


# -- renames and aliases --------------------------------------------------------------------


def test_a_declared_rename_renames_the_table_column_and_keeps_an_alias() -> None:
    current = table(("id", pa.int64()), ("phone", pa.string()))
    data = incoming(("id", pa.int64()), ("phone_number", pa.string()))
    result = plan(data, current, renames={"phone": "phone_number"})
    assert result.changes == (RenameColumn("phone", "phone_number"),)
    assert result.diff.lines() == ["→ phone renamed to phone_number"]
    assert result.aliases == {"phone": "phone_number"}
    assert result.batch.identity


def test_older_data_with_the_old_name_loads_through_the_alias() -> None:
    current = table(("id", pa.int64()), ("phone_number", pa.string()))
    known = RegisteredSchema(versions=((1, current),), aliases={"phone": "phone_number"})
    result = plan(incoming(("id", pa.int64()), ("phone", pa.string())), current, known)
    assert result.changes == ()
    assert result.batch.renames == {"phone": "phone_number"}
    assert result.batch.output.names == ["id", "phone_number"]


def test_data_with_both_the_old_and_the_new_name_is_refused() -> None:
    data = incoming(("phone", pa.string()), ("phone_number", pa.string()))
    with pytest.raises(SchemaError, match="has both 'phone' and 'phone_number'"):
        plan(data, None, renames={"phone": "phone_number"})


# -- overrides -------------------------------------------------------------------------------


def test_a_declared_type_converts_the_column_and_rejects_what_does_not_convert() -> None:
    data = incoming(("id", pa.int64()), ("signed_up", pa.string()), ("zip", pa.int64()))
    result = plan(
        data,
        None,
        columns={
            "signed_up": {"type": "DATE", "format": "%d/%m/%Y"},
            "zip": {"type": "VARCHAR"},
        },
    )
    assert [(c.column, c.type, c.reason, c.options.format) for c in result.batch.casts] == [
        ("signed_up", pa.date32(), "type_mismatch", "%d/%m/%Y"),
        ("zip", pa.string(), "type_mismatch", None),
    ]
    assert result.after == table(
        ("id", pa.int64()), ("signed_up", pa.date32()), ("zip", pa.string())
    )


# -- unresolved columns ----------------------------------------------------------------------


def test_an_all_null_column_stays_unresolved_until_a_value_arrives() -> None:
    first = plan(incoming(("id", pa.int64()), ("note", pa.null())), None)
    assert first.after == table(("id", pa.int64()), ("note", None))
    assert first.batch.placeholders == ("note",)
    assert first.batch.output.field("note").type == pa.string()
    # The warehouse holds the placeholder (text); the registry knows the column has no type.
    stored = table(("id", pa.int64()), ("note", pa.string()))
    known = RegisteredSchema(versions=((1, first.after),))
    second = plan(incoming(("id", pa.int64()), ("note", pa.int64())), stored, known)
    assert second.changes == (SetColumnType("note", pa.int64()),)
    assert second.notes == ("note: resolved as BIGINT",)
    assert second.diff.lines() == ["~ note: NULL → BIGINT"]


def test_a_null_column_fits_any_existing_type() -> None:
    current = table(("id", pa.int64()), ("amount", pa.float64()))
    result = plan(incoming(("id", pa.int64()), ("amount", pa.null())), current)
    assert result.changes == ()


# -- time zones ------------------------------------------------------------------------------


def test_naive_timestamps_against_zoned_ones_are_explicit() -> None:
    current = table(("ts", pa.timestamp("us", tz="UTC")))
    data = incoming(("ts", pa.timestamp("us")))
    rejected = plan(data, current)
    assert rejected.batch.routes == {"ts": "ts__v_timestamp"}
    as_utc = plan(data, current, naive_timestamps="utc")
    assert as_utc.batch.routes == {}
    utc = pa.timestamp("us", tz="UTC")
    options = as_utc.batch.casts[0].options
    assert as_utc.batch.casts == (Cast("ts", pa.timestamp("us"), utc, options, "schema"),)


# -- compatibility ---------------------------------------------------------------------------


def test_a_change_the_compatibility_mode_forbids_fails_before_anything_is_written() -> None:
    current = table(("id", pa.int64()), ("amount", pa.int64()))
    known = RegisteredSchema(versions=((1, current),))
    data = incoming(("id", pa.int64()), ("amount", pa.float64()))
    assert plan(data, current, known, compatibility="BACKWARD").changes == (
        SetColumnType("amount", pa.float64()),
    )
    with pytest.raises(SchemaError, match="not FORWARD-compatible") as caught:
        plan(data, current, known, compatibility="FORWARD")
    assert "amount" in str(caught.value)
    assert plan(data, current, known, compatibility="NONE").changed


def test_the_primary_key_must_be_in_the_data() -> None:
    with pytest.raises(SchemaError, match="primary key column"):
        plan_contract(
            incoming(("name", pa.string())),
            None,
            RegisteredSchema(),
            SchemaContract(),
            ref=REF,
            primary_key=("id",),
        )

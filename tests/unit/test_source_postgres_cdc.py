"""The ``postgres_cdc`` source's configuration and stored position (no server needed; the
pipeline behaviour is tested against a real cluster in tests/integration/test_cdc_pipeline.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sluiceway.cdc import format_lsn
from sluiceway.core.errors import ConfigError, SourceError
from sluiceway.core.names import TableRef
from sluiceway.sources.base import ReadContext
from sluiceway.sources.postgres_cdc import PostgresCdcSource, PostgresCdcSpec
from sluiceway.sources.postgres_cdc.position import Position
from sluiceway.sources.registry import builtin_sources
from sluiceway.spec.models import SourceSettings

pytestmark = pytest.mark.unit

FIELDS: dict[str, Any] = {
    "type": "postgres_cdc",
    "connection": "dbname=shop",
    "source_table": "sales.orders",
}


def spec(**more: Any) -> PostgresCdcSpec:
    return PostgresCdcSpec.model_validate({**FIELDS, **more})


def test_it_is_a_built_in_source_that_keeps_state_and_says_which_rows_are_changes() -> None:
    created = builtin_sources().create(spec())
    assert isinstance(created, PostgresCdcSource)
    assert created.capabilities.keeps_state
    assert created.capabilities.change_op_column == "_sluiceway_op"


def test_slot_names_are_derived_from_pipeline_and_source() -> None:
    assert spec().slot_name("Shop-Prod", "orders") == "sluiceway_shop_prod_orders"
    assert spec(slot="orders_cdc").slot_name("shop", "orders") == "orders_cdc"
    long = spec().slot_name("p" * 80, "orders")
    assert len(long) == 63
    assert long.startswith("sluiceway_ppp")
    assert long != spec().slot_name("p" * 80, "orders2")


@pytest.mark.parametrize("slot", ["Orders", "orders-cdc", "", "x" * 64])
def test_a_slot_name_postgresql_would_refuse_is_a_config_problem(slot: str) -> None:
    with pytest.raises(ValidationError, match="not a replication slot name"):
        spec(slot=slot)


@pytest.mark.parametrize(
    ("option", "value"), [("incremental", {"cursor": "updated_at"}), ("cdc", "snapshot")]
)
def test_row_options_that_make_no_sense_for_a_change_stream_are_refused(
    option: str, value: Any
) -> None:
    with pytest.raises(ValidationError, match=f"takes no `{option}`"):
        spec(**{option: value})


def test_the_connection_is_secret() -> None:
    configured = spec(connection="postgresql://cdc:s3cret@db/shop")
    assert "s3cret" not in repr(configured)
    assert "s3cret" not in str(configured.model_dump())


def test_a_malformed_connection_string_is_not_echoed() -> None:
    # A password pasted without its keyword: libpq's message would quote it.
    source = PostgresCdcSource(spec(connection="host=db s3cret"))
    settings = SourceSettings(
        name="orders",
        table=TableRef("orders"),
        write="merge",
        primary_key=("id",),
        batch_size=100,
        lineage=True,
        on_bad_rows="fail",
    )
    ctx = ReadContext(
        pipeline="shop",
        run_id="r",
        load_id="l",
        settings=settings,
        resolve_path=Path,
        display_path=str,
    )
    with pytest.raises(ConfigError) as raised:
        source.read(ctx)
    assert "not a valid PostgreSQL connection string" in raised.value.message
    assert "s3cret" not in str(raised.value)


def test_the_position_round_trips_through_state() -> None:
    position = Position(0x16B3748, "sluiceway_shop_orders")
    text = position.to_state()
    assert json.loads(text) == {"value": "0/16B3748", "slot": "sluiceway_shop_orders"}
    assert Position.from_state(text, source="orders") == position
    assert Position.from_state(None, source="orders") is None


def test_a_position_set_by_state_reset_to_is_read() -> None:
    # `sluiceway state reset --source orders --to 1/A0` writes the cursor's shape.
    text = json.dumps({"column": None, "value": "1/A0"})
    read = Position.from_state(text, source="orders")
    assert read is not None
    assert format_lsn(read.lsn) == "1/A0"
    assert read.slot is None


@pytest.mark.parametrize("text", ['{"value": "yesterday"}', "not json", '{"value": 12}'])
def test_a_stored_position_that_is_no_lsn_says_how_to_fix_it(text: str) -> None:
    with pytest.raises(SourceError, match="is not an LSN") as raised:
        Position.from_state(text, source="orders")
    assert raised.value.hint is not None
    assert "sluiceway state reset --source orders" in raised.value.hint

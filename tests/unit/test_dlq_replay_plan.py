"""Which dead-letter rows a replay takes, and how their raw JSON becomes typed rows again."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest

from sluiceway.core.names import TableRef
from sluiceway.core.rejects import Reject
from sluiceway.engine.replay import DlqFilter, DlqRow, SourceReplay, plan_replay, replay_reader
from sluiceway.spec.contract import SchemaContract
from sluiceway.spec.models import SourceSettings

pytestmark = pytest.mark.unit


def row(seq: int, raw: object, *, source: str = "orders", cls: str = "rule") -> dict[str, object]:
    text = raw if isinstance(raw, str) and not raw.startswith("{") else json.dumps(raw)
    return {
        "load_id": "L1",
        "seq": seq,
        "pipeline": "shop",
        "source": source,
        "error_class": cls,
        "raw": text,
    }


def settings(contract: SchemaContract | None = None) -> SourceSettings:
    return SourceSettings(
        name="orders",
        table=TableRef("orders"),
        write="append",
        primary_key=(),
        batch_size=1000,
        lineage=True,
        on_bad_rows="dlq",
        contract=contract or SchemaContract(),
    )


def test_the_plan_groups_by_source_and_says_what_it_leaves() -> None:
    rows = [
        row(0, {"id": 1}),
        row(1, {"id": 2}, cls="type_mismatch"),
        row(2, "1;2;broken", cls="malformed"),
        row(3, {"id": 3}, source="gone"),
        {**row(4, {"id": 4}), "pipeline": "other"},
    ]

    plan = plan_replay(rows, "shop", ["orders"])

    assert plan.rows == 2
    assert plan.per_source() == {"orders": 2}
    # Rows the contract converted replay first, source rows second.
    assert [(name, r.converted, r.refs) for found in plan.rounds for name, r in found.items()] == [
        ("orders", True, (("L1", 0),)),
        ("orders", False, (("L1", 1),)),
    ]
    assert plan.skipped == {
        "the raw input is not a row (a line the source could not parse)": 1,
        "source 'gone' is no longer in the pipeline": 1,
        "loaded by pipeline 'other', not 'shop'": 1,
    }


def test_values_are_typed_as_the_table_and_misfits_go_back_to_the_queue() -> None:
    raws = [
        {"id": 1, "placed": "2024-03-01", "amount": 5.5, "tier": "gold"},
        {"id": "two", "placed": "2024-03-02", "amount": 1},
        {"id": 3, "placed": None, "amount": "7"},
    ]
    replay = SourceReplay(
        "orders", [DlqRow("L1", i, json.dumps(r)) for i, r in enumerate(raws)], converted=True
    )
    table = pa.schema([("id", pa.int64()), ("placed", pa.date32()), ("amount", pa.float64())])
    rejected: list[Reject] = []

    out = replay_reader(replay, settings(), table, rejected.append).read_all()

    assert out.schema.field("id").type == pa.int64()
    assert out.schema.field("placed").type == pa.date32()
    assert (
        out.schema.field("tier").type == pa.string()
    )  # not in the table: text, the contract decides
    assert out.to_pylist() == [
        {"id": 1, "placed": date(2024, 3, 1), "amount": 5.5, "tier": "gold"},
        {"id": 3, "placed": None, "amount": 7.0, "tier": None},
    ]
    (misfit,) = rejected
    assert misfit.reason == "type_mismatch"
    assert misfit.column == "id"
    assert "'two'" in misfit.message
    assert misfit.raw == json.dumps(raws[1])


def test_source_rows_keep_text_where_the_contract_converts() -> None:
    contract = SchemaContract.model_validate(
        {"columns": {"placed": {"type": "DATE", "format": "%m/%d/%Y"}}}
    )
    replay = SourceReplay("orders", [DlqRow("L1", 0, json.dumps({"placed": "03/04/2024"}))])
    table = pa.schema([("placed", pa.date32())])

    out = replay_reader(replay, settings(contract), table, lambda r: None).read_all()

    assert out.schema.field("placed").type == pa.string()
    assert out.column("placed").to_pylist() == ["03/04/2024"]


def test_filters_become_one_condition() -> None:
    where, params = DlqFilter(table="orders", rule="email_format").where()
    assert params["table"] == "orders"
    assert params["rule"] == "email_format"
    assert params["load"] is None
    assert "rule = $rule" in where

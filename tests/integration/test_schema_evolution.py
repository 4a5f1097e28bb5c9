"""Schema contracts end to end: real files, DuckDB, and the registry in the metadata store."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sluiceway.core.errors import SchemaError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.engine.schema_store import MetaSchemaRegistry
from sluiceway.meta.store import MetaStore

pytestmark = pytest.mark.integration


class Project:
    """A folder with one CSV source loading ``bronze.customers``; files are swapped per load."""

    def __init__(self, root: Path, schema: dict[str, Any] | None = None, write: str = "append"):
        self.root = root
        self.registry = Registry()
        block = json.dumps({"schema": schema}) if schema else "{}"
        (root / "sluiceway.yaml").write_text(
            textwrap.dedent(
                f"""\
                pipeline: evolve
                sources:
                  customers:
                    type: csv
                    path: data.csv
                    table: bronze.customers
                    write: {write}
                    primary_key: [id]
                """
            )
            + "".join(f"    {k}: {json.dumps(v)}\n" for k, v in json.loads(block).items())
        )

    def load(self, csv: str) -> RunResult:
        (self.root / "data.csv").write_text(textwrap.dedent(csv))
        pipeline = self.registry.load(self.root / "sluiceway.yaml")
        with MetaStore.for_state_dir(pipeline.state_dir) as store:
            runner = PipelineRunner(
                pipeline, registry=self.registry, bus=EventBus(), schemas=MetaSchemaRegistry(store)
            )
            return runner.run()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        path = self.root / ".sluiceway" / "warehouse.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def columns(self) -> list[tuple[str, str]]:
        return [
            (name, kind)
            for name, kind in self.rows(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'bronze' AND table_name = 'customers' "
                "AND column_name NOT LIKE '\\_sluiceway%' ESCAPE '\\' ORDER BY ordinal_position"
            )
        ]

    def history(self) -> list[Any]:
        with MetaStore.for_state_dir(self.root / ".sluiceway") as store:
            warehouse = f"duckdb:{self.root / '.sluiceway' / 'warehouse.duckdb'}"
            return MetaSchemaRegistry(store).history(warehouse, _ref("bronze.customers"))


def _ref(text: str) -> Any:
    from sluiceway.core.names import TableRef

    return TableRef.parse(text)


def test_the_demo_style_drop_evolves_and_old_files_still_load(tmp_path: Path) -> None:
    project = Project(tmp_path, {"renames": {"phone": "phone_number"}})
    first = project.load(
        """\
        id,phone,credit_limit
        1,555-0101,5000
        2,555-0102,7000
        """
    )
    assert first.status is RunStatus.SUCCEEDED
    second = project.load(
        """\
        id,phone_number,credit_limit,loyalty_tier
        3,555-0103,5250.75,gold
        """
    )
    assert second.status is RunStatus.SUCCEEDED, second.steps[0].error
    assert project.columns() == [
        ("id", "BIGINT"),
        ("phone_number", "VARCHAR"),
        ("credit_limit", "DOUBLE"),
        ("loyalty_tier", "VARCHAR"),
    ]
    assert project.rows(
        "SELECT id, phone_number, credit_limit, loyalty_tier FROM bronze.customers ORDER BY id"
    ) == [
        (1, "555-0101", 5000.0, None),
        (2, "555-0102", 7000.0, None),
        (3, "555-0103", 5250.75, "gold"),
    ]
    # An older file, with the old column name and without the new column, still loads.
    third = project.load(
        """\
        id,phone,credit_limit
        4,555-0104,100
        """
    )
    assert third.status is RunStatus.SUCCEEDED, third.steps[0].error
    assert project.rows("SELECT phone_number, loyalty_tier FROM bronze.customers WHERE id = 4") == [
        ("555-0104", None)
    ]
    versions = project.history()
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].diff.lines() == [
        "+ loyalty_tier VARCHAR",
        "~ credit_limit: BIGINT → DOUBLE",
    ]
    assert versions[1].aliases == {"phone": "phone_number"}
    assert second.steps[0].schema_version == 2
    assert third.steps[0].schema_version is None


def test_a_rename_declared_later_renames_the_table_column(tmp_path: Path) -> None:
    Project(tmp_path).load("id,phone\n1,555-0101\n")
    project = Project(tmp_path, {"renames": {"phone": "phone_number"}})
    result = project.load("id,phone_number\n2,555-0102\n")
    assert result.status is RunStatus.SUCCEEDED, result.steps[0].error
    assert project.columns() == [("id", "BIGINT"), ("phone_number", "VARCHAR")]
    assert project.rows("SELECT id, phone_number FROM bronze.customers ORDER BY id") == [
        (1, "555-0101"),
        (2, "555-0102"),
    ]
    assert project.history()[-1].diff.lines() == ["→ phone renamed to phone_number"]


def test_freeze_fails_with_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    project = Project(tmp_path, {"policy": "freeze"})
    project.load("id,phone\n1,555-0101\n")
    result = project.load("id,phone_number,tier\n2,555-0102,gold\n")
    (step,) = result.steps
    assert isinstance(step.error, SchemaError)
    text = str(step.error)
    assert "new column phone_number VARCHAR" in text
    assert "new column tier VARCHAR" in text
    assert "column missing from the data: phone VARCHAR" in text
    assert project.columns() == [("id", "BIGINT"), ("phone", "VARCHAR")]
    assert project.rows("SELECT count(*) FROM bronze.customers") == [(1,)]
    assert project.rows("SELECT count(*) FROM _sluiceway.loads") == [(1,)]
    assert [v.version for v in project.history()] == [1]


def test_discard_row_keeps_the_rows_that_fit(tmp_path: Path) -> None:
    project = Project(tmp_path, {"policy": "discard_row"})
    project.load("id,amount\n1,10\n")
    result = project.load("id,amount,tier\n2,20,\n3,abc,\n4,40,gold\n")
    (step,) = result.steps
    assert step.status.value == "succeeded", step.error
    assert (step.rows_read, step.rows_inserted, step.rows_rejected) == (3, 1, 2)
    assert project.rows("SELECT id, amount FROM bronze.customers ORDER BY id") == [
        (1, 10),
        (2, 20),
    ]
    dlq = project.rows(
        "SELECT error_class, column_name, message, raw FROM _sluiceway.dlq ORDER BY seq"
    )
    assert [(d[0], d[1]) for d in dlq] == [("schema", "amount"), ("schema", "tier")]
    assert "'abc' does not fit the table's BIGINT" in dlq[0][2]
    assert json.loads(dlq[0][3])["amount"] == "abc"
    assert json.loads(dlq[1][3])["tier"] == "gold"
    assert project.columns() == [("id", "BIGINT"), ("amount", "BIGINT")]


def test_discard_column_drops_the_column_and_says_so(tmp_path: Path) -> None:
    project = Project(tmp_path, {"policy": "discard_column"})
    project.load("id,amount\n1,10\n")
    result = project.load("id,amount,tier\n2,20,gold\n")
    (step,) = result.steps
    assert step.status.value == "succeeded"
    assert step.schema_notes == ("tier: not in the table; dropped (discard_column)",)
    assert project.columns() == [("id", "BIGINT"), ("amount", "BIGINT")]
    assert project.rows("SELECT count(*) FROM bronze.customers") == [(2,)]


def test_an_incompatible_type_lands_in_a_variant_column(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.load("id,amount\n1,10.5\n")
    result = project.load("id,amount\n2,n/a\n")
    (step,) = result.steps
    assert step.status.value == "succeeded", step.error
    assert "amount__v_varchar" in step.schema_notes[0]
    assert project.rows(
        "SELECT id, amount, amount__v_varchar FROM bronze.customers ORDER BY id"
    ) == [
        (1, 10.5, None),
        (2, None, "n/a"),
    ]


def test_an_override_that_does_not_convert_goes_to_the_dlq_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    project = Project(
        tmp_path,
        {
            "columns": {
                "amount": {"type": "DECIMAL(10,2)", "decimal_comma": True},
                "active": {"type": "BOOLEAN", "true_values": ["Y"], "false_values": ["N"]},
                "signed_up": {"type": "DATE", "format": "%d/%m/%Y"},
                "zip": {"type": "VARCHAR"},
            }
        },
    )
    result = project.load(
        """\
        id,amount,active,signed_up,zip
        1,"1.234,50",Y,31/12/2024,02134
        2,"12,3",N,01/01/2025,10001
        3,"oops",Y,01/01/2025,10002
        4,"5,00",maybe,01/01/2025,10003
        5,"5,00",N,2025-13-01,10004
        """
    )
    (step,) = result.steps
    assert step.status.value == "succeeded", step.error
    assert (step.rows_inserted, step.rows_rejected) == (2, 3)
    rows = project.rows(
        "SELECT id, amount::VARCHAR, active, signed_up::VARCHAR, zip FROM bronze.customers "
        "ORDER BY id"
    )
    assert rows == [
        (1, "1234.50", True, "2024-12-31", "02134"),
        (2, "12.30", False, "2025-01-01", "10001"),
    ]
    dlq = project.rows("SELECT error_class, column_name, message FROM _sluiceway.dlq ORDER BY seq")
    assert dlq == [
        ("type_mismatch", "amount", "amount: 'oops' cannot be converted to DECIMAL(10,2)"),
        ("type_mismatch", "active", "active: 'maybe' cannot be converted to BOOLEAN"),
        ("type_mismatch", "signed_up", "signed_up: '2025-13-01' cannot be converted to DATE"),
    ]


def test_replace_keeps_the_evolved_table_and_swaps_the_rows(tmp_path: Path) -> None:
    project = Project(tmp_path, write="replace")
    project.load("id,amount\n1,10\n")
    project.load("id,amount,tier\n2,20.5,gold\n")
    result = project.load("id,amount\n3,30\n")
    assert result.status is RunStatus.SUCCEEDED
    assert project.columns() == [("id", "BIGINT"), ("amount", "DOUBLE"), ("tier", "VARCHAR")]
    assert project.rows("SELECT id, amount, tier FROM bronze.customers") == [(3, 30.0, None)]


def test_a_table_changed_by_hand_is_recorded_as_observed(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.load("id,amount\n1,10\n")
    path = tmp_path / ".sluiceway" / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE bronze.customers ADD COLUMN note VARCHAR")
    project.load("id,amount\n2,20\n")
    versions = project.history()
    assert [(v.version, v.reason) for v in versions] == [(1, "load"), (2, "observed")]
    assert versions[1].diff.lines() == ["+ note VARCHAR"]

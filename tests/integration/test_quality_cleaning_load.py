"""Cleaning and dedupe on a real load: the table holds cleaned rows, the report counts changes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.quality.history import InMemoryQualityLog
from tests.conftest import WritePipeline

pytestmark = pytest.mark.integration

CUSTOMERS = (
    "id,name,email,state,phone,active,signup,updated\n"
    '1,"  ann   lee ", Ann@Example.COM ,california,(555) 234-4567,Y,03/04/2024,1\n'
    "2,bob,N/A,TX,555.987.6543,no,2024-03-05,1\n"
    "1,Ann Lee,ann@example.com,CA,+1 555 234 4567,yes,2024-03-04,3\n"
    "3,-,carl@example.com,Calif.,12,maybe,someday,1\n"
    "1,Old Ann,old@example.com,CA,5552344567,n,2024-01-01,2\n"
)

PIPELINE = """
    pipeline: cleaning
    quality: {{profile: false}}
    defaults: {{write: {write}}}
    sources:
      customers:
        type: csv
        path: customers.csv
        primary_key: [id]
        columns: {{phone: VARCHAR, updated: INTEGER}}
        clean:
          "*": [null_tokens]
          name: [trim, collapse_whitespace, title]
          email: [email]
          state: [us_state]
          phone: [phone]
          active: [boolean]
          signup: [{{date: {{formats: ["%Y-%m-%d", "%m/%d/%Y"]}}}}]
        dedupe: {{key: [id], order_by: updated, keep: last}}
        checks:
          - {{rule: row_count, reconcile: true}}
"""


def run(registry: Registry, path: Path, log: InMemoryQualityLog) -> RunResult:
    pipeline = registry.load(path)
    return PipelineRunner(pipeline, registry=registry, bus=EventBus(), quality=log).run()


def table(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("write", ["append", "merge"])
def test_cleaned_and_deduplicated_rows_load_and_the_report_counts_them(
    project: Path, registry: Registry, write_pipeline: WritePipeline, write: str
) -> None:
    (project / "customers.csv").write_text(CUSTOMERS)
    log = InMemoryQualityLog()

    result = run(registry, write_pipeline(PIPELINE.format(write=write)), log)

    assert result.status is RunStatus.SUCCEEDED, result.steps[0].error
    loaded = table(
        project,
        "SELECT id, name, email, state, phone, active, signup::VARCHAR FROM customers ORDER BY id",
    )
    assert loaded == [
        (1, "Ann Lee", "ann@example.com", "CA", "+15552344567", True, "2024-03-04"),
        (2, "Bob", None, "TX", "+15559876543", False, "2024-03-05"),
        (3, None, "carl@example.com", "CA", "12", None, None),
    ]
    types = {
        str(name): str(kind)
        for name, kind in table(
            project,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'customers'",
        )
    }
    assert types["active"] == "BOOLEAN"
    assert types["signup"] == "DATE"
    (entry,) = log.entries
    assert entry.committed
    report = {(c["column"], c["operation"]): c for c in entry.cleaning or []}
    assert report[("name", "title")]["changed"] == 2  # "ann lee", "bob"
    assert report[("name", "trim")]["changed"] == 1
    assert report[("email", "email")]["changed"] == 1
    assert {"before": " Ann@Example.COM ", "after": "ann@example.com"} in report[
        ("email", "email")
    ]["examples"]
    assert report[("state", "us_state")]["changed"] == 2  # california, Calif.
    assert report[("active", "boolean")]["unparsed"] == 1  # maybe
    assert report[("signup", "date")]["unparsed"] == 1  # someday
    assert report[("email", "null_tokens")]["changed"] == 1  # N/A
    assert report[("id", "dedupe (keep last by updated)")]["changed"] == 2
    (reconcile,) = entry.results
    assert reconcile["passed"], reconcile
    assert "source 5 vs loaded 3 + rejected 0 + merged 2" in reconcile["observed_text"]


def test_a_dedupe_key_the_rows_lack_is_a_config_error_and_loads_nothing(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "customers.csv").write_text(CUSTOMERS)
    text = PIPELINE.format(write="append").replace(
        "dedupe: {key: [id]", "dedupe: {key: [customer_id]"
    )

    result = run(registry, write_pipeline(text), InMemoryQualityLog())

    assert result.status is RunStatus.FAILED
    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "'customer_id'" in str(error)
    assert table(
        project, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'customers'"
    ) == [(0,)]


def test_an_operation_on_a_missing_column_is_a_config_error(
    project: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    (project / "customers.csv").write_text(CUSTOMERS)
    text = PIPELINE.format(write="append").replace("state: [us_state]", "region: [us_state]")

    result = run(registry, write_pipeline(text), InMemoryQualityLog())

    error = result.steps[0].error
    assert isinstance(error, ConfigError)
    assert "region" in str(error)

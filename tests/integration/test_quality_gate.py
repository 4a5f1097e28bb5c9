"""Rules on every load: warn records, quarantine moves rows to the DLQ, fail rolls back."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import EventBus
from sluiceway.core.status import RunStatus, StepStatus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.quality.history import InMemoryQualityLog
from tests.conftest import WritePipeline

pytestmark = pytest.mark.integration

ORDERS = (
    "order_id,customer_id,email,amount,status\n"
    "1,10,ann@example.com,5.5,paid\n"
    "2,11,bad-email,7.0,paid\n"
    "3,,bob@example.com,-2.0,paid\n"
    "3,12,carl@example.com,9.0,lost\n"
    "4,99,dan@example.com,1.0,paid\n"
)
CUSTOMERS = "customer_id,name\n10,Ann\n11,Bob\n12,Carl\n"


def rows(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def run(registry: Registry, path: Path, log: InMemoryQualityLog) -> RunResult:
    pipeline = registry.load(path)
    return PipelineRunner(pipeline, registry=registry, bus=EventBus(), quality=log).run()


def pipeline_text(checks: str, write: str = "append") -> str:
    # orders comes first in the file; its foreign key makes customers load first anyway
    return f"""
        pipeline: gate
        quality: {{profile: false}}
        defaults: {{write: {write}}}
        sources:
          orders:
            type: csv
            path: orders.csv
            primary_key: [order_id]
            checks:
{checks}
          customers:
            type: csv
            path: customers.csv
            primary_key: [customer_id]
        """


@pytest.fixture
def files(project: Path) -> Path:
    (project / "orders.csv").write_text(ORDERS)
    (project / "customers.csv").write_text(CUSTOMERS)
    return project


def test_warn_records_every_rule_and_loads_everything(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    checks = """
              - {rule: not_null, column: customer_id}
              - {rule: format, column: email, format: email}
              - {rule: range, column: amount, min: 0}
              - {rule: accepted_values, column: status, values: [paid, shipped]}
              - {rule: unique, columns: [order_id]}
              - {rule: foreign_key, column: customer_id, references: customers.customer_id}
              - {rule: row_count, reconcile: true}
    """
    log = InMemoryQualityLog()
    result = run(registry, write_pipeline(pipeline_text(checks)), log)

    assert result.status is RunStatus.SUCCEEDED
    assert [s.name for s in result.steps] == ["customers", "orders"]  # parents first
    assert rows(files, "SELECT count(*) FROM orders") == [(5,)]
    (entry,) = [e for e in log.entries if e.table == "orders"]
    found = {r["rule_id"]: r["failing"] for r in entry.results}
    assert found == {
        "customer_id_not_null": 1,
        "email_format": 1,
        "amount_range": 1,
        "status_accepted_values": 1,
        "order_id_unique": 1,
        "customer_id_foreign_key": 1,
        "reconcile": 0,
    }
    assert entry.committed
    assert entry.score is not None
    assert 0 < entry.score < 100
    orders = next(s for s in result.steps if s.name == "orders")
    assert orders.quality is not None
    assert orders.quality["quarantined"] == 0
    fk = next(r for r in entry.results if r["rule_id"] == "customer_id_foreign_key")
    assert fk["sample"][0]["customer_id"] == 99


def test_quarantine_moves_failing_rows_to_the_dlq_and_loads_the_rest(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    checks = """
              - {rule: format, column: email, format: email, on_fail: quarantine}
              - {rule: range, column: amount, min: 0, on_fail: quarantine}
              - {rule: unique, columns: [order_id], on_fail: quarantine}
              - {rule: row_count, reconcile: true, on_fail: fail}
    """
    log = InMemoryQualityLog()
    result = run(registry, write_pipeline(pipeline_text(checks)), log)

    assert result.status is RunStatus.SUCCEEDED, result.as_dict()
    # Order 2 fails the email format and the first order 3 the range. Every rule judges the
    # load as it arrived, so the second order 3 is still a duplicate of the first and goes too.
    assert rows(files, "SELECT order_id FROM orders ORDER BY order_id") == [(1,), (4,)]
    dlq = rows(
        files,
        "SELECT rule, error_class, column_name, raw FROM _sluiceway.dlq ORDER BY seq",
    )
    assert [(r[0], r[1], r[2]) for r in dlq] == [
        ("email_format", "rule", "email"),
        ("amount_range", "rule", "amount"),
        ("order_id_unique", "rule", "order_id"),
    ]
    assert json.loads(str(dlq[0][3])) == {
        "order_id": 2,
        "customer_id": 11,
        "email": "bad-email",
        "amount": 7.0,
        "status": "paid",
    }
    orders = next(s for s in result.steps if s.name == "orders")
    assert orders.rows_rejected == 3
    (entry,) = [e for e in log.entries if e.table == "orders"]
    by_rule = {r["rule_id"]: r["quarantined"] for r in entry.results}
    assert by_rule["email_format"] == 1
    assert by_rule["amount_range"] == 1
    assert by_rule["order_id_unique"] == 1
    reconcile = next(r for r in entry.results if r["rule_id"] == "reconcile")
    assert reconcile["passed"], reconcile


def test_fail_rolls_the_load_back_and_keeps_the_results(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(pipeline_text("              - {rule: range, column: amount, min: 0}"))
    log = InMemoryQualityLog()
    assert run(registry, path, log).status is RunStatus.SUCCEEDED
    before = rows(files, "SELECT count(*) FROM orders")

    strict = pipeline_text(
        "              - {rule: range, column: amount, min: 0, on_fail: fail}\n"
        "              - {rule: not_null, column: email, on_fail: fail}"
    )
    result = run(registry, write_pipeline(strict), log)

    orders = next(s for s in result.steps if s.name == "orders")
    assert orders.status is StepStatus.FAILED
    assert orders.error is not None
    message = str(orders.error)
    assert "amount_range" in message
    assert "email_not_null" not in message
    assert rows(files, "SELECT count(*) FROM orders") == before  # nothing written
    assert rows(files, "SELECT count(*) FROM _sluiceway.dlq") == [(0,)]
    latest = log.history(next(iter(log.entries)).warehouse, "orders")[0]
    assert not latest.committed
    assert {r["rule_id"]: r["passed"] for r in latest.results} == {
        "amount_range": False,
        "email_not_null": True,
    }


def test_table_scope_rules_judge_the_merged_table_inside_the_transaction(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    # Within each load the keys are unique after the merge; a table-scope row_count sees the
    # merged table, and its failure rolls the second load back.
    checks = "              - {rule: row_count, max: 4, scope: table, on_fail: fail}"
    path = write_pipeline(pipeline_text(checks, write="merge"))
    log = InMemoryQualityLog()
    first = run(registry, path, log)
    assert first.status is RunStatus.SUCCEEDED
    assert rows(files, "SELECT count(*) FROM orders") == [(4,)]  # 5 rows, order 3 merged

    (files / "orders.csv").write_text(ORDERS + "5,10,eve@example.com,3.0,paid\n")
    second = run(registry, path, log)
    assert second.status is RunStatus.FAILED
    assert rows(files, "SELECT count(*) FROM orders") == [(4,)]
    latest = log.history(log.entries[0].warehouse, "orders")[0]
    assert latest.results[0]["observed"] == 5.0
    assert not latest.committed


def test_a_cycle_of_foreign_keys_is_a_config_error(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """
        pipeline: cycle
        sources:
          a:
            type: csv
            path: orders.csv
            checks: [{rule: foreign_key, column: customer_id, references: b.customer_id}]
          b:
            type: csv
            path: customers.csv
            checks: [{rule: foreign_key, column: customer_id, references: a.customer_id}]
        """
    )
    with pytest.raises(ConfigError, match=r"cycle: a -> b -> a"):
        run(registry, path, InMemoryQualityLog())


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("{rule: not_null, column: phone}", "check 'phone_not_null' names column 'phone'"),
        (
            "{rule: expression, id: bad_sql, expression: 'nope > 1'}",
            "the checks of orders could not run on the staged rows",
        ),
    ],
)
def test_a_rule_the_rows_cannot_satisfy_is_a_config_error_and_loads_nothing(
    files: Path, registry: Registry, write_pipeline: WritePipeline, check: str, expected: str
) -> None:
    result = run(
        registry,
        write_pipeline(pipeline_text(f"              - {check}")),
        InMemoryQualityLog(),
    )

    (orders,) = [s for s in result.steps if s.name == "orders"]
    assert isinstance(orders.error, ConfigError)
    assert expected in str(orders.error)
    assert rows(files, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'orders'") == [(0,)]


def test_a_consistency_rule_loads_the_tables_it_reads_first(
    files: Path, registry: Registry, write_pipeline: WritePipeline
) -> None:
    checks = """
              - rule: consistency
                id: known_customers
                left: {key: [customer_id], value: "count(*)"}
                right: {table: customers, key: [customer_id], value: "count(*)"}
                missing: ignore
    """
    result = run(registry, write_pipeline(pipeline_text(checks)), InMemoryQualityLog())

    assert [s.name for s in result.steps] == ["customers", "orders"]

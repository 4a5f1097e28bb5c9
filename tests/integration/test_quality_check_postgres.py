"""Rule SQL runs unchanged on PostgreSQL: every rule kind counts there what a person counts.

The same tables, with defects counted by hand, are created in PostgreSQL and in DuckDB with the
same sqlglot statements; ``check_table`` runs the same rules on both. Each rule's failing count
must equal the hand count on PostgreSQL, and DuckDB's (which must equal it too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from sluiceway.quality.check import TableCheck, check_table
from sluiceway.quality.sql import DuckDBRunner, SqlRunner
from tests.integration.conftest import PsycopgRunner

pytestmark = pytest.mark.integration


def _at(day: int, hour: int) -> datetime:
    # 2020: years old whatever day the suite runs, so `1h` is stale and `36500d` is fresh.
    return datetime(2020, 3, day, hour, tzinfo=UTC)


ORDERS_COLUMNS = [
    ("id", "INT"),
    ("region", "VARCHAR"),
    ("cid", "INT"),
    ("email", "VARCHAR"),
    ("amount", "DOUBLE"),
    ("status", "VARCHAR"),
    ("code", "VARCHAR"),
    ("zip", "VARCHAR"),
    ("ts", "TIMESTAMPTZ"),
]
ORDERS: list[tuple[Any, ...]] = [
    (1, "east", 10, "a@b.com", 5.0, "paid", "AB-1", "12345", _at(2, 10)),
    (2, "east", None, "bad", -1.0, "zzz", "ab-1", "1234", _at(1, 10)),
    (2, "west", 11, None, 200000.0, "PAID", "AB-12", "12345-6789", None),
    (3, None, 99, "x@y.org", 7.0, None, None, None, _at(1, 11)),
    (4, "west", 10, "c@d.net", 6.0, "shipped", "CD-7", "54321", _at(1, 12)),
    (4, "west", 12, "e@f.io", 8.0, "shipped", "EF-x", "98765", _at(1, 13)),
    (5, None, 12, "g@h.com", 5.0, "paid", "GH-3", "1234567", _at(1, 14)),
    (5, None, 11, "i@j.com", 6.5, "Shipped", "IJ-4", "11111", _at(1, 15)),
]
CUSTOMERS_COLUMNS = [("cid", "INT"), ("credit", "DOUBLE"), ("spent", "DOUBLE")]
CUSTOMERS: list[tuple[Any, ...]] = [
    (10, 100.0, 11.0),
    (11, 50.0, 6.5),
    (12, 1.0, 13.5),
    (13, 0.0, 0.0),
]
# One column per named format: two good values, three bad, one NULL (row by row).
FORMATS_COLUMNS = [(name, "VARCHAR") for name in ("email", "url", "phone", "zip", "day", "uid")]
FORMATS: list[tuple[Any, ...]] = [
    (
        "a@b.com",
        "https://example.com",
        "555-123-4567",
        "12345",
        "2026-01-31",
        "123e4567-e89b-12d3-a456-426614174000",
    ),
    (
        "first.last+tag@mail.example.org",
        "http://example.com:8080/a/b?c=d#e",
        "+1 (555) 123-4567",
        "12345-6789",
        "1999-12-01",
        "123E4567-E89B-12D3-A456-426614174000",
    ),
    (
        "no-at.example.com",
        "ftp://example.com",
        "555-1234",
        "1234",
        "2026-13-01",
        "123e4567e89b12d3a456426614174000",
    ),
    (
        "a@@b.com",
        "https://exa mple.com",
        "55512345678",
        "123456",
        "2026-1-01",
        "g23e4567-e89b-12d3-a456-426614174000",
    ),
    ("a@b.c", "https://", "5551234567", "1234a", "20260101", ""),
    (None, None, None, None, None, None),
]

ORDER_RULES: list[dict[str, Any]] = [
    {"rule": "not_null", "column": "cid"},
    {"rule": "accepted_values", "column": "status", "values": ["paid", "shipped"]},
    {
        "rule": "accepted_values",
        "id": "status_any_case",
        "column": "status",
        "values": ["paid", "shipped"],
        "case_sensitive": False,
    },
    {"rule": "range", "column": "amount", "min": 0, "max": 100000},
    {"rule": "range", "id": "above_5", "column": "amount", "min": 5, "min_inclusive": False},
    {"rule": "range", "id": "below_8", "column": "amount", "max": 8, "max_inclusive": False},
    {"rule": "regex", "column": "code", "pattern": "^[A-Z]{2}-[0-9]+$"},
    {"rule": "format", "column": "email", "format": "email"},
    {"rule": "format", "column": "zip", "format": "zip_us"},
    {"rule": "length", "column": "zip", "min": 5, "max": 5},
    {"rule": "length", "id": "zip_at_least_6", "column": "zip", "min": 6},
    {"rule": "foreign_key", "column": "cid", "references": "customers.cid"},
    {"rule": "expression", "id": "small", "expression": "amount < 100"},
    {
        "rule": "expression",
        "id": "within_credit",
        "expression": "orders.amount <= c.credit",
        "join": {"table": "customers", "alias": "c", "on": "c.cid = orders.cid"},
    },
    {"rule": "unique", "columns": ["id"]},
    {"rule": "unique", "id": "id_region_unique", "columns": ["id", "region"]},
    {"rule": "row_count", "min": 10},
    {"rule": "row_count", "id": "row_count_max", "max": 100},
    {"rule": "freshness", "column": "ts", "max_age": "1h"},
    {"rule": "freshness", "id": "ts_century", "column": "ts", "max_age": "36500d"},
    {
        "rule": "consistency",
        "id": "spent",
        "left": {"key": ["cid"], "value": "sum(amount)"},
        "right": {"table": "customers", "key": ["cid"], "value": "spent"},
        "tolerance": 0.25,
    },
    {
        "rule": "consistency",
        "id": "spent_both_sides",
        "left": {"key": ["cid"], "value": "sum(amount)"},
        "right": {"table": "customers", "key": ["cid"], "value": "spent"},
        "tolerance": 0.25,
        "missing": "fail",
    },
    {"rule": "completeness", "column": "email", "max_null_share": 0.1},
    {"rule": "outliers", "id": "amount_z", "column": "amount", "threshold": 2},
    {"rule": "outliers", "id": "amount_iqr", "column": "amount", "method": "iqr"},
]
ORDER_FAILING = {
    "cid_not_null": 1,
    "status_accepted_values": 3,  # zzz, PAID, Shipped; NULL passes
    "status_any_case": 1,  # zzz
    "amount_range": 2,  # -1 and 200000
    "above_5": 3,  # 5.0 twice (exclusive) and -1
    "below_8": 2,  # 8.0 (exclusive) and 200000
    "code_regex": 2,  # ab-1, EF-x; NULL passes
    "email_format": 1,  # bad
    "zip_format": 2,  # 1234, 1234567
    "zip_length": 3,  # 1234, 12345-6789, 1234567
    "zip_at_least_6": 5,  # every 5-digit and 4-digit zip
    "cid_foreign_key": 1,  # 99; NULL passes
    "small": 1,  # 200000
    # 200000 > 50 (cid 11), 8 > 1 and 5 > 1 (cid 12); NULL and 99 join nothing and pass
    "within_credit": 3,
    "id_unique": 3,  # the second 2, 4 and 5
    # keyed (no NULL part): (1,east) (2,east) (2,west) (4,west) (4,west); (3|5, NULL) are not
    "id_region_unique": 1,
    "row_count": 1,  # 8 rows, fewer than 10
    "row_count_max": 0,
    "ts_freshness": 1,
    "ts_century": 0,
    # cid 10: 5 + 6 = 11 = 11; cid 11: 200006.5 vs 6.5; cid 12: 13 vs 13.5 (> 0.25)
    "spent": 2,
    "spent_both_sides": 4,  # and cid 99 (no customer row), cid 13 (no orders)
    "email_completeness": 1,  # 1 of 8 rows, 12.5% > 10%
    # mean 25004.6, sd ~70700: only 200000 is more than 2 sd away
    "amount_z": 1,
    # q1 5, q3 7 (7.25 interpolated): the band [2, 10] leaves out -1 and 200000
    "amount_iqr": 2,
}
FORMAT_FAILING = {
    "email_format": 3,  # no @, @@, one-letter TLD
    "url_format": 3,  # ftp, a space, no host
    "phone_format": 2,  # 7 digits, 11 digits not starting with 1
    "zip_format": 3,  # 4 digits, 6 digits, a letter
    "day_format": 3,  # month 13, one-digit month, no dashes
    "uid_format": 3,  # no dashes, a g, empty
}
FORMAT_RULES = [
    {"rule": "format", "id": f"{name}_format", "column": name, "format": fmt}
    for name, fmt in (
        ("email", "email"),
        ("url", "url"),
        ("phone", "phone"),
        ("zip", "zip_us"),
        ("day", "iso_date"),
        ("uid", "uuid"),
    )
]


def create(runner: SqlRunner, name: str, columns: list[tuple[str, str]], rows: list[Any]) -> None:
    """``name`` with ``columns`` and ``rows``, by the same statements in every engine."""
    definitions = [
        exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t))
        for c, t in columns
    ]
    table = exp.table_(name, quoted=True)
    runner.execute(exp.Create(this=exp.Schema(this=table, expressions=definitions), kind="TABLE"))
    runner.execute(exp.insert(exp.values(rows), table.copy()))


def create_all(runner: SqlRunner) -> None:
    create(runner, "orders", ORDERS_COLUMNS, ORDERS)
    create(runner, "customers", CUSTOMERS_COLUMNS, CUSTOMERS)
    create(runner, "formats", FORMATS_COLUMNS, FORMATS)


@pytest.fixture
def duck() -> DuckDBRunner:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    runner = DuckDBRunner(con)
    create_all(runner)
    return runner


def failing(check: TableCheck) -> dict[str, int]:
    return {r.rule_id: r.failing for r in check.results}


def passed(check: TableCheck) -> dict[str, bool]:
    return {r.rule_id: r.passed for r in check.results}


def observed(check: TableCheck, leave_out: set[str]) -> dict[str, float | None]:
    return {r.rule_id: r.observed for r in check.results if r.rule_id not in leave_out}


def test_every_rule_kind_counts_the_same_on_postgres(
    pg_runner: PsycopgRunner, duck: DuckDBRunner
) -> None:
    create_all(pg_runner)
    in_postgres = check_table(pg_runner, "orders", ORDER_RULES)
    in_duckdb = check_table(duck, "orders", ORDER_RULES)
    assert failing(in_postgres) == ORDER_FAILING
    assert failing(in_duckdb) == ORDER_FAILING
    assert passed(in_postgres) == passed(in_duckdb)
    # Same observations (shares, counts), ages aside: `now` moves between the two runs.
    ages = {"ts_freshness", "ts_century"}
    assert observed(in_postgres, ages) == pytest.approx(observed(in_duckdb, ages))
    assert in_postgres.result("email_completeness").observed == pytest.approx(0.125)
    # Samples that are ordered are the same rows.
    for rule_id in ("id_unique", "id_region_unique"):
        assert in_postgres.result(rule_id).sample == in_duckdb.result(rule_id).sample
    assert in_postgres.result("id_region_unique").sample == [{"id": 4, "region": "west", "rows": 2}]
    orphan = dict(zip([c for c, _ in ORDERS_COLUMNS], ORDERS[3], strict=True))
    orphan["ts"] = "2020-03-01T11:00:00+00:00"
    assert in_postgres.result("cid_foreign_key").sample == [orphan]
    assert in_duckdb.result("cid_foreign_key").sample == [orphan]


def test_every_named_format_matches_the_same_on_postgres(
    pg_runner: PsycopgRunner, duck: DuckDBRunner
) -> None:
    create_all(pg_runner)
    in_postgres = check_table(pg_runner, "formats", FORMAT_RULES)
    in_duckdb = check_table(duck, "formats", FORMAT_RULES)
    assert failing(in_postgres) == FORMAT_FAILING
    assert failing(in_duckdb) == FORMAT_FAILING

"""Rules suggested from a profile of a DuckDB table whose contents are known."""

from __future__ import annotations

import uuid
from typing import Any

import duckdb
import pytest
import yaml
from pydantic import TypeAdapter
from sqlglot import exp

from sluiceway.quality.profile import ColumnProfile, TableProfile, profile_table
from sluiceway.quality.sql import DuckDBRunner
from sluiceway.quality.suggest import _nice_bounds, _round_up_share, suggest_rules, suggestions_yaml
from sluiceway.spec.quality import RuleSpec

pytestmark = pytest.mark.unit

ROWS = 400
STATUSES = ("paid", "pending", "refunded", "shipped")
STATES = ("CA", "NY", "OR", "TX", "WA")


def customer(i: int) -> tuple[Any, ...]:
    return (
        i + 1,
        f"user{i}@example.com",
        None if i % 40 == 7 else f"({200 + i % 700}) {100 + i % 900}-{1000 + i:04d}",
        STATUSES[i % 4],
        STATES[i % 5],
        round(0.5 + (1187.0 * i) / (ROWS - 1), 2),
        f"{10000 + i * 7:05d}",
        str(uuid.UUID(int=i * 7919 + 1)),
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        f"https://shop.example.com/c/{i}",
        f"note number {i}" + "!" * (i % 3),
        None,
        i % 3,
    )


COLUMNS = (
    "customer_id BIGINT, email VARCHAR, phone VARCHAR, status VARCHAR, state VARCHAR, "
    "price DOUBLE, zip VARCHAR, ref VARCHAR, signup_date VARCHAR, website VARCHAR, "
    "note VARCHAR, unused VARCHAR, tier INTEGER"
)


@pytest.fixture(scope="module")
def profile() -> TableProfile:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE customers ({COLUMNS})")
    rows = [customer(i) for i in range(ROWS)]
    con.execute(exp.insert(exp.values(rows), exp.table_("customers")).sql("duckdb"))
    return profile_table(DuckDBRunner(con), exp.table_("customers"), table="bronze.customers")


def warn(rule: str, column: str, **params: Any) -> dict[str, Any]:
    return {"rule": rule, "column": column, **params, "on_fail": "warn"}


def test_suggestions_for_a_known_table(profile: TableProfile) -> None:
    nulls = sum(1 for i in range(ROWS) if i % 40 == 7)
    assert suggest_rules(profile) == [
        warn("not_null", "customer_id"),
        {"rule": "unique", "columns": ["customer_id"], "on_fail": "warn"},
        warn("range", "customer_id", min=0, max=400),
        warn("not_null", "email"),
        warn("format", "email", format="email"),
        warn("completeness", "phone", max_null_share=_round_up_share(nulls / ROWS)),
        warn("format", "phone", format="phone"),
        warn("not_null", "status"),
        warn("accepted_values", "status", values=list(STATUSES)),
        warn("not_null", "state"),
        warn("accepted_values", "state", values=list(STATES)),
        warn("length", "state", min=2, max=2),
        warn("not_null", "price"),
        warn("range", "price", min=0, max=1200),
        warn("not_null", "zip"),
        warn("format", "zip", format="zip_us"),
        warn("not_null", "ref"),
        {"rule": "unique", "columns": ["ref"], "on_fail": "warn"},
        warn("format", "ref", format="uuid"),
        warn("not_null", "signup_date"),
        warn("format", "signup_date", format="iso_date"),
        warn("not_null", "website"),
        warn("format", "website", format="url"),
        warn("not_null", "note"),
        warn("not_null", "tier"),
        warn("range", "tier", min=0, max=2),
    ]


def test_every_suggestion_is_a_valid_check(profile: TableProfile) -> None:
    rules = TypeAdapter(list[RuleSpec]).validate_python(suggest_rules(profile))
    assert {r.on_fail for r in rules} == {"warn"}
    assert len({r.rule_id for r in rules}) == len(rules)


def test_yaml_parses_back_with_a_reason_per_rule(profile: TableProfile) -> None:
    text = suggestions_yaml(profile, source="customers")
    assert yaml.safe_load(text) == suggest_rules(profile)
    lines = text.splitlines()
    assert lines[0].startswith("# Checks suggested for source customers from a profile of ")
    assert f"# 0 nulls in {ROWS} rows" in lines
    assert "# every value is 2 characters long" in lines
    rule_lines = [n for n, line in enumerate(lines) if line.startswith("- ")]
    assert len(rule_lines) == len(suggest_rules(profile))
    assert all(lines[n - 1].startswith("# ") for n in rule_lines)
    # pasted under a source's checks: key, it still reads as the same rules
    nested = yaml.safe_load("checks:\n" + text)
    assert nested == {"checks": suggest_rules(profile)}


def test_nothing_to_suggest_is_an_empty_list() -> None:
    empty = TableProfile("t", None, "2026-01-01T00:00:00+00:00", 0, ())
    assert suggest_rules(empty) == []
    assert yaml.safe_load(suggestions_yaml(empty)) == []


def test_values_that_yaml_would_misread_are_quoted() -> None:
    column = ColumnProfile.from_dict(
        {
            "name": "answer",
            "type": "VARCHAR",
            "kind": "string",
            "count": 40,
            "nulls": 0,
            "null_share": 0.0,
            "distinct": 3,
            "top_values": [
                {"value": "yes", "count": 20, "share": 0.5},
                {"value": "no", "count": 10, "share": 0.25},
                {"value": "null", "count": 10, "share": 0.25},
            ],
        }
    )
    profile = TableProfile("t", None, "2026-01-01T00:00:00+00:00", 40, (column,))
    rules = yaml.safe_load(suggestions_yaml(profile))
    assert rules[1]["values"] == ["no", "null", "yes"]


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (0.5, 1187.5, False, (0, 1200)),
        (3, 97, True, (3, 97)),
        (-3.7, 12.2, False, (-4, 13)),
        (0.012, 0.987, False, (0.01, 0.99)),
        (5, 5, True, (5, 5)),
        (0, 0, False, (0, 0)),
    ],
)
def test_nice_bounds(low: float, high: float, integer: bool, expected: tuple[float, float]) -> None:
    lo, hi = _nice_bounds(low, high, integer=integer)
    assert (lo, hi) == expected
    assert lo <= low
    assert hi >= high


@pytest.mark.parametrize(
    ("share", "limit"), [(0.0312, 0.035), (0.5, 0.55), (0.95, 1.0), (0.0001, 0.00011)]
)
def test_null_share_limits_have_headroom(share: float, limit: float) -> None:
    assert _round_up_share(share) == limit
    assert _round_up_share(share) >= share

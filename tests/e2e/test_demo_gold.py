"""The demo's silver and gold layers (ecommerce_gold.yaml) and its saved queries, end to end.

One small demo (scale 0.05) is built the way the data arrives: drop 1, the gold pipeline,
drop 2 and the order history, then the gold pipeline again. The tests check that silver
carries none of the manifest's defects, that gold reconciles with figures computed here from
bronze and silver, that dim_customers keeps a version per drop-2 change, that every saved
query runs, and that PostgreSQL builds the same figures from the same bronze.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pacsv
import pytest
import yaml

from sluiceway.core.us_states import BY_CODE, SPELLINGS
from sluiceway.demo.manifest import Manifest
from tests.e2e.cli_process import sluiceway
from tests.integration.conftest import pg_server, pg_url
from tests.integration.warehouse_targets import libpq_url, postgres_rows

__all__ = ["pg_server", "pg_url"]  # the throwaway-database fixtures, used here too

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("demo_gold")]

PIPELINES = resources.files("sluiceway.demo").joinpath("pipelines")
GOLD_PIPELINE = "ecommerce_gold.yaml"
MODELS = "ecommerce_gold"
REVENUE_STATUSES = {"paid", "shipped", "delivered"}
CENT = Decimal("0.01")

# Every table the gold pipeline builds, with its columns and their DuckDB types.
TABLES: dict[str, dict[str, str]] = {
    "silver.us_state_spellings": {
        "spelling_key": "VARCHAR",
        "state_code": "VARCHAR",
        "state_name": "VARCHAR",
    },
    "silver.customer_identities": {"customer_id": "BIGINT", "person_id": "BIGINT"},
    "silver.customers": {
        "customer_id": "BIGINT",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "birth_date": "DATE",
        "signup_date": "DATE",
        "state": "VARCHAR",
        "city": "VARCHAR",
        "zip": "VARCHAR",
        "is_active": "BOOLEAN",
        "credit_limit": "DECIMAL(12,2)",
        "loyalty_tier": "VARCHAR",
        "updated_at": "TIMESTAMP",
    },
    "silver.products": {
        "product_id": "BIGINT",
        "sku": "VARCHAR",
        "product_name": "VARCHAR",
        "category": "VARCHAR",
        "price": "DECIMAL(12,2)",
        "has_valid_price": "BOOLEAN",
        "cost": "DECIMAL(12,2)",
        "weight_kg": "DOUBLE",
        "is_active": "BOOLEAN",
        "created_at": "TIMESTAMP",
    },
    "silver.orders": {
        "order_id": "BIGINT",
        "customer_id": "BIGINT",
        "has_known_customer": "BOOLEAN",
        "order_ts": "TIMESTAMP",
        "order_date": "DATE",
        "status": "VARCHAR",
        "channel": "VARCHAR",
        "currency": "VARCHAR",
        "shipping_state": "VARCHAR",
        "order_amount": "DECIMAL(12,2)",
        "updated_at": "TIMESTAMP",
    },
    "silver.order_items": {
        "order_item_id": "BIGINT",
        "order_id": "BIGINT",
        "product_id": "BIGINT",
        "has_known_product": "BOOLEAN",
        "quantity": "INTEGER",
        "unit_price": "DECIMAL(10,2)",
        "discount_rate": "DECIMAL(4,2)",
        "line_amount": "DECIMAL(14,4)",
    },
    "silver.payments": {
        "payment_id": "BIGINT",
        "order_id": "BIGINT",
        "method": "VARCHAR",
        "status": "VARCHAR",
        "amount": "DECIMAL(12,2)",
        "currency": "VARCHAR",
        "paid_at": "TIMESTAMP",
        "matches_order_amount": "BOOLEAN",
    },
    "silver.web_events": {
        "event_id": "VARCHAR",
        "session_id": "VARCHAR",
        "customer_id": "BIGINT",
        "event_type": "VARCHAR",
        "url": "VARCHAR",
        "occurred_at": "TIMESTAMP",
        "event_date": "DATE",
        "device_type": "VARCHAR",
        "device_os": "VARCHAR",
        "browser": "VARCHAR",
        "referrer": "VARCHAR",
        "search_query": "VARCHAR",
    },
    "gold.dim_customers": {
        "customer_id": "BIGINT",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "full_name": "VARCHAR",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "birth_date": "DATE",
        "signup_date": "DATE",
        "state": "VARCHAR",
        "state_name": "VARCHAR",
        "city": "VARCHAR",
        "zip": "VARCHAR",
        "is_active": "BOOLEAN",
        "credit_limit": "DECIMAL(12,2)",
        "loyalty_tier": "VARCHAR",
        "updated_at": "TIMESTAMP",
        "valid_from": "TIMESTAMP",
        "valid_to": "TIMESTAMP",
        "is_current": "BOOLEAN",
        "row_hash": "VARCHAR",
    },
    "gold.dim_products": {
        "product_id": "BIGINT",
        "sku": "VARCHAR",
        "product_name": "VARCHAR",
        "category": "VARCHAR",
        "price": "DECIMAL(12,2)",
        "cost": "DECIMAL(12,2)",
        "unit_margin": "DECIMAL(12,2)",
        "has_valid_price": "BOOLEAN",
        "weight_kg": "DOUBLE",
        "is_active": "BOOLEAN",
        "created_at": "TIMESTAMP",
    },
    "gold.fact_orders": {
        "order_id": "BIGINT",
        "customer_id": "BIGINT",
        "has_known_customer": "BOOLEAN",
        "order_ts": "TIMESTAMP",
        "order_date": "DATE",
        "order_month": "DATE",
        "status": "VARCHAR",
        "channel": "VARCHAR",
        "shipping_state": "VARCHAR",
        "order_amount": "DECIMAL(12,2)",
        "is_revenue": "BOOLEAN",
        "revenue": "DECIMAL(12,2)",
        "line_count": "BIGINT",
        "units": "BIGINT",
        "lines_amount": "DECIMAL(14,2)",
        "captured_amount": "DECIMAL(14,2)",
        "refunded_amount": "DECIMAL(14,2)",
        "updated_at": "TIMESTAMP",
    },
    "gold.fact_order_items": {
        "order_item_id": "BIGINT",
        "order_id": "BIGINT",
        "product_id": "BIGINT",
        "customer_id": "BIGINT",
        "order_date": "DATE",
        "order_month": "DATE",
        "status": "VARCHAR",
        "is_revenue": "BOOLEAN",
        "quantity": "INTEGER",
        "unit_price": "DECIMAL(10,2)",
        "discount_rate": "DECIMAL(4,2)",
        "line_amount": "DECIMAL(14,4)",
        "revenue": "DECIMAL(14,4)",
    },
    "gold.daily_revenue": {
        "order_date": "DATE",
        "orders": "BIGINT",
        "revenue_orders": "BIGINT",
        "revenue": "DECIMAL(14,2)",
        "refunded_amount": "DECIMAL(14,2)",
        "paying_customers": "BIGINT",
        "average_order_value": "DECIMAL(12,2)",
    },
    "gold.monthly_active_users": {
        "activity_month": "DATE",
        "active_users": "BIGINT",
        "ordering_users": "BIGINT",
        "browsing_users": "BIGINT",
    },
    "gold.customer_lifetime_value": {
        "customer_id": "BIGINT",
        "full_name": "VARCHAR",
        "state": "VARCHAR",
        "signup_date": "DATE",
        "revenue_orders": "BIGINT",
        "lifetime_revenue": "DECIMAL(14,2)",
        "average_order_value": "DECIMAL(12,2)",
        "refunded_amount": "DECIMAL(14,2)",
        "first_order_date": "DATE",
        "last_order_date": "DATE",
    },
    # a chain of built-in operations (filter, rfm)
    "gold.customer_rfm": {
        "customer_id": "BIGINT",
        "recency": "BIGINT",
        "frequency": "BIGINT",
        "monetary": "DECIMAL(38,2)",
        "r_score": "BIGINT",
        "f_score": "BIGINT",
        "m_score": "BIGINT",
        "rfm_segment": "VARCHAR",
    },
    # a Python transform over Arrow
    "gold.customer_segments": {
        "customer_id": "BIGINT",
        "rfm_segment": "VARCHAR",
        "segment": "VARCHAR",
        "value_score": "BIGINT",
    },
}

# The saved queries the demo ships, with the columns each returns.
SAVED: dict[str, list[str]] = {
    "active_users_over_30_signed_up_last_week": [
        "customer_id",
        "full_name",
        "email",
        "state",
        "signup_date",
        "age",
    ],
    "signups_and_average_age_per_day": ["signup_date", "signups", "average_age"],
    "revenue_by_state_and_month": ["order_month", "state", "orders", "revenue"],
    "top_products": ["product_id", "product_name", "category", "orders", "units", "revenue"],
    "customer_lifetime_value_top": [
        "customer_id",
        "full_name",
        "state",
        "revenue_orders",
        "lifetime_revenue",
        "average_order_value",
        "first_order_date",
        "last_order_date",
    ],
    "monthly_active_users": [
        "activity_month",
        "active_users",
        "ordering_users",
        "browsing_users",
    ],
    "repeat_purchase_rate": ["signup_year", "buyers", "repeat_buyers", "repeat_rate_pct"],
    "daily_revenue_last_30_days": [
        "order_date",
        "orders",
        "revenue_orders",
        "revenue",
        "average_order_value",
    ],
    "payment_mismatches": [
        "order_id",
        "payment_id",
        "paid_at",
        "method",
        "order_amount",
        "paid_amount",
        "difference",
    ],
}


@dataclass(frozen=True)
class Shop:
    """The demo project: the gold pipeline as its sluiceway.yaml, the data beside it."""

    project: Path
    data: Path
    manifest: Manifest
    before_drop2: dict[str, Any]  # the gold run's summary after drop 1
    after_drop2: dict[str, Any]  # and after drop 2

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        path = self.project / ".sluiceway" / "warehouse.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def one(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def count(self, table: str, where: str) -> int:
        """How many rows of ``table`` match ``where``."""
        found: int = self.one(f"SELECT count(*) FROM {table} WHERE {where}")
        return found


def _run(project: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = sluiceway("run", *args, "--json", cwd=project, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def _copy_gold(project: Path, warehouse: str = "") -> None:
    """The bundled gold pipeline as the project's sluiceway.yaml, with its models."""
    text = PIPELINES.joinpath(GOLD_PIPELINE).read_text("utf-8")
    (project / "sluiceway.yaml").write_text(text + warehouse, encoding="utf-8")
    with resources.as_file(PIPELINES.joinpath(MODELS)) as models:
        shutil.copytree(models, project / MODELS)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    project = tmp_path_factory.mktemp("gold")
    data = project / "data"
    generated = sluiceway("demo", "generate", "--out", str(data), "--scale", "0.05", cwd=project)
    assert generated.returncode == 0, generated.stderr
    _copy_gold(project)
    # The loading pipelines sit in the data folder, whose paths they name relative to it.
    for name in ("ecommerce.yaml", "ecommerce_drop2.yaml", "ecommerce_history.yaml"):
        (data / name).write_text(PIPELINES.joinpath(name).read_text("utf-8"), encoding="utf-8")
    _run(project, "data/ecommerce.yaml")
    before = _run(project)
    _run(project, "data/ecommerce_drop2.yaml")
    _run(project, "data/ecommerce_history.yaml")
    after = _run(project)
    manifest = Manifest.load(data / "manifest.json")
    return Shop(project, data, manifest, before, after)


def test_the_state_spellings_model_is_the_us_states_table() -> None:
    text = PIPELINES.joinpath(MODELS, "silver", "us_state_spellings.sql").read_text("utf-8")
    rows = re.findall(r"\('([^']+)', '([A-Z]{2})', '([^']+)'\)", text)
    assert {key: code for key, code, _ in rows} == dict(SPELLINGS)
    assert len(rows) == len(SPELLINGS)
    assert all(BY_CODE[code].name == name for _, code, name in rows)


def test_every_model_builds_and_passes_its_checks(shop: Shop) -> None:
    for summary in (shop.before_drop2, shop.after_drop2):
        steps = {s["step"]: s for s in summary["steps"]}
        assert set(steps) == set(TABLES)
        assert {name: s["status"] for name, s in steps.items()} == dict.fromkeys(
            TABLES, "succeeded"
        )
        failed = {name: s["quality"]["failed"] for name, s in steps.items()}
        assert failed == {name: [] for name in TABLES}
        assert sum(s["rows_rejected"] for s in steps.values()) == 0


def test_every_table_has_its_columns_and_types(shop: Shop) -> None:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for schema, table, column, kind in shop.rows(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema IN ('silver', 'gold') AND table_name <> 'order_history' "
        "AND column_name NOT LIKE '\\_sluiceway%' ESCAPE '\\'"
    ):
        found[f"{schema}.{table}"][column] = kind
    assert dict(found) == TABLES


def test_silver_customers_carry_none_of_the_defects(shop: Shop) -> None:
    defects, entity = shop.manifest.defects, shop.manifest.entities["customers"]
    new = shop.manifest.drop2.changes["drop2.customers.new"]
    people = entity.unique_keys - entity.near_duplicate_rows + new.count
    count, ids = shop.rows("SELECT count(*), count(DISTINCT customer_id) FROM silver.customers")[0]
    assert (count, ids) == (people, people)
    # Each second registration folds into the first: gone, and mapped to it.
    pairs = defects["customers.near_duplicates"].pairs()
    identities = dict(shop.rows("SELECT customer_id, person_id FROM silver.customer_identities"))
    assert {dup: identities[dup] for _, dup in pairs} == {dup: orig for orig, dup in pairs}
    kept = {r[0] for r in shop.rows("SELECT customer_id FROM silver.customers")}
    assert {orig for orig, _ in pairs} <= kept
    assert not {dup for _, dup in pairs} & kept
    # Every spelling of a state becomes its code: the manifest says which.
    variants = defects["customers.noncanonical_state"].variants or {}
    keys = ", ".join(map(str, defects["customers.noncanonical_state"].ids()))
    raw = dict(
        shop.rows(f"SELECT customer_id, state FROM bronze.customers WHERE customer_id IN ({keys})")
    )
    clean = dict(
        shop.rows(f"SELECT customer_id, state FROM silver.customers WHERE customer_id IN ({keys})")
    )
    assert clean == {key: variants[state].canonical for key, state in raw.items()}
    codes = ", ".join(f"'{code}'" for code in BY_CODE)
    assert shop.count("silver.customers", f"state NOT IN ({codes})") == 0


def _nulls(shop: Shop, column: str, ids: list[int]) -> set[int]:
    """Those of ``ids`` whose silver.customers ``column`` is NULL."""
    return {
        row[0]
        for row in shop.rows(
            f"SELECT customer_id FROM silver.customers WHERE {column} IS NULL "
            f"AND customer_id IN ({', '.join(map(str, ids))})"
        )
    }


def test_silver_customers_values_are_clean_or_null(shop: Shop) -> None:
    defects, table = shop.manifest.defects, "silver.customers"
    no_email = defects["customers.null_email"].ids() + defects["customers.invalid_email"].ids()
    assert _nulls(shop, "email", no_email) == set(no_email)
    assert shop.count(table, "email IS NULL") == len(no_email)
    email = "^[a-z0-9._%+-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}$"
    assert shop.count(table, f"email <> trim(email) OR NOT regexp_matches(email, '{email}')") == 0
    bad_phones = defects["customers.invalid_phone"].ids()
    assert _nulls(shop, "phone", bad_phones) == set(bad_phones)
    assert shop.count(table, "phone IS NULL") == len(bad_phones)
    assert shop.count(table, "NOT regexp_matches(phone, '^\\+1[0-9]{10}$')") == 0
    births = (
        defects["customers.future_birth_date"].ids() + defects["customers.absurd_birth_date"].ids()
    )
    assert _nulls(shop, "birth_date", births) == set(births)
    assert shop.count(table, "birth_date IS NULL") == len(births)
    implausible = "birth_date <= DATE '1900-01-01' OR birth_date >= signup_date"
    assert shop.count(table, implausible) == 0
    # Stray whitespace and case are gone from every name and city.
    word = "'^[A-Z][a-z]+$'"
    tidy = (
        f"regexp_matches(first_name, {word}) AND regexp_matches(last_name, {word}) "
        "AND regexp_matches(city, '^[A-Z][a-z.]+( [A-Z][a-z]+)*$')"
    )
    assert shop.count(table, f"NOT ({tidy})") == 0


def test_silver_orders_items_payments_and_products_carry_none_of_the_defects(shop: Shop) -> None:
    defects, drop2 = shop.manifest.defects, shop.manifest.drop2.changes
    orders = shop.manifest.entities["orders"].unique_keys + drop2["drop2.orders.new"].count
    assert shop.rows("SELECT count(*), count(DISTINCT order_id) FROM silver.orders") == [
        (orders, orders)
    ]
    unknown = defects["orders.orphan_customer"].ids() + defects["orders.null_customer_id"].ids()
    flagged = shop.rows(
        "SELECT order_id FROM silver.orders WHERE NOT has_known_customer AND customer_id IS NULL"
    )
    assert sorted(r[0] for r in flagged) == sorted(unknown)
    variants = defects["orders.noncanonical_state"].variants or {}
    keys = ", ".join(map(str, defects["orders.noncanonical_state"].ids()))
    raw = dict(
        shop.rows(
            "SELECT DISTINCT order_id, shipping_state FROM bronze.orders "
            f"WHERE order_id IN ({keys})"
        )
    )
    clean = dict(
        shop.rows(f"SELECT order_id, shipping_state FROM silver.orders WHERE order_id IN ({keys})")
    )
    assert clean == {key: variants[state].canonical for key, state in raw.items()}
    late = drop2["drop2.orders.late_updates"].ids()
    assert shop.rows(
        f"SELECT DISTINCT status FROM silver.orders WHERE order_id IN ({', '.join(map(str, late))})"
    ) == [("refunded",)]
    # Lines: every one kept, quantities positive, unknown products without a product.
    assert shop.one("SELECT count(*) FROM silver.order_items") == shop.one(
        "SELECT count(*) FROM bronze.order_items"
    )
    assert shop.one("SELECT min(quantity) FROM silver.order_items") >= 1
    negative = ", ".join(map(str, defects["order_items.negative_quantity"].ids()))
    assert (
        shop.one(
            "SELECT count(*) FROM silver.order_items AS s JOIN bronze.order_items AS b "
            f"USING (order_item_id) WHERE order_item_id IN ({negative}) "
            "AND s.quantity = -b.quantity AND b.quantity < 0"
        )
        == defects["order_items.negative_quantity"].count
    )
    orphans = shop.rows("SELECT order_item_id FROM silver.order_items WHERE product_id IS NULL")
    assert sorted(r[0] for r in orphans) == defects["order_items.orphan_product"].ids()
    # Payments: each duplicate's second payment_id gone, the first kept.
    pairs = defects["payments.duplicate_payment"].pairs()
    payments = {r[0] for r in shop.rows("SELECT payment_id FROM silver.payments")}
    assert len(payments) == shop.manifest.entities["payments"].rows - len(pairs)
    assert {first for first, _ in pairs} <= payments
    assert not {second for _, second in pairs} & payments
    mismatched = shop.rows(
        "SELECT order_id FROM silver.payments "
        "WHERE status = 'captured' AND NOT matches_order_amount"
    )
    assert sorted(r[0] for r in mismatched) == defects["payments.amount_mismatch"].ids()
    # Products: invalid prices withheld, a missing category named.
    invalid = defects["products.negative_price"].ids() + defects["products.absurd_price"].ids()
    withheld = shop.rows("SELECT product_id FROM silver.products WHERE NOT has_valid_price")
    assert sorted(r[0] for r in withheld) == sorted(invalid)
    assert shop.one("SELECT count(*) - count(price) FROM silver.products") == len(invalid)
    uncategorized = shop.rows("SELECT product_id FROM silver.products WHERE category = 'unknown'")
    assert [r[0] for r in uncategorized] == defects["products.null_category"].ids()


def _latest_bronze_orders(shop: Shop) -> dict[int, tuple[str, Decimal, date]]:
    """Each order's newest version in bronze, computed here: status, amount, order date."""
    latest: dict[int, tuple[Any, ...]] = {}
    for order_id, status, amount, ordered, updated in shop.rows(
        "SELECT order_id, status, total_amount, order_ts, updated_at FROM bronze.orders"
    ):
        if order_id not in latest or updated > latest[order_id][3]:
            latest[order_id] = (status, amount, ordered, updated)
    return {
        key: (status, Decimal(str(amount)).quantize(CENT), ordered.date())
        for key, (status, amount, ordered, _) in latest.items()
    }


def test_daily_revenue_reconciles_with_bronze_and_the_facts(shop: Shop) -> None:
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for status, amount, day in _latest_bronze_orders(shop).values():
        expected[day] += amount if status in REVENUE_STATUSES else Decimal(0)
    daily = dict(shop.rows("SELECT order_date, revenue FROM gold.daily_revenue"))
    assert daily == dict(expected)
    total = sum(expected.values(), Decimal(0))
    assert shop.one("SELECT sum(revenue) FROM gold.fact_orders") == total
    assert shop.one("SELECT sum(revenue) FROM gold.daily_revenue") == total
    assert shop.one("SELECT sum(orders) FROM gold.daily_revenue") == shop.one(
        "SELECT count(*) FROM silver.orders"
    )
    # Lines: one fact per silver line, the same amounts, adding up to each order's amount.
    assert shop.rows("SELECT count(*), sum(line_amount) FROM gold.fact_order_items") == shop.rows(
        "SELECT count(*), sum(line_amount) FROM silver.order_items"
    )
    assert shop.one(
        "SELECT count(*) FROM gold.fact_orders WHERE line_count > 0 AND lines_amount = order_amount"
    ) == shop.one("SELECT count(DISTINCT order_id) FROM silver.order_items")
    assert shop.one(
        "SELECT sum(order_revenue) FROM (SELECT round(sum(revenue), 2) AS order_revenue "
        "FROM gold.fact_order_items WHERE is_revenue GROUP BY order_id)"
    ) == shop.one("SELECT sum(revenue) FROM gold.fact_orders WHERE line_count > 0")


def test_monthly_active_users_and_lifetime_value_reconcile(shop: Shop) -> None:
    active: dict[date, set[int]] = defaultdict(set)
    ordering: dict[date, set[int]] = defaultdict(set)
    for customer, day in shop.rows(
        "SELECT customer_id, order_date FROM silver.orders WHERE customer_id IS NOT NULL"
    ):
        ordering[day.replace(day=1)].add(customer)
        active[day.replace(day=1)].add(customer)
    for customer, day in shop.rows(
        "SELECT customer_id, event_date FROM silver.web_events WHERE customer_id IS NOT NULL"
    ):
        active[day.replace(day=1)].add(customer)
    mau = {
        month: (total, orders)
        for month, total, orders in shop.rows(
            "SELECT activity_month, active_users, ordering_users FROM gold.monthly_active_users"
        )
    }
    assert mau == {m: (len(active[m]), len(ordering[m])) for m in active}
    lifetime = "SELECT count(*), sum(lifetime_revenue), sum(revenue_orders) "
    assert shop.rows(lifetime + "FROM gold.customer_lifetime_value") == shop.rows(
        "SELECT (SELECT count(*) FROM silver.customers), sum(revenue), "
        "count(*) FILTER (is_revenue) FROM gold.fact_orders WHERE customer_id IS NOT NULL"
    )
    assert shop.one("SELECT count(*) FROM gold.dim_products") == shop.one(
        "SELECT count(*) FROM silver.products"
    )


def test_dim_customers_keeps_a_version_per_drop2_change(shop: Shop) -> None:
    people = shop.one("SELECT count(*) FROM silver.customers")
    updates = shop.manifest.drop2.changes["drop2.customers.updates"]
    total, current, keys = shop.rows(
        "SELECT count(*), count(*) FILTER (is_current), count(DISTINCT customer_id) "
        "FROM gold.dim_customers"
    )[0]
    assert (total, current, keys) == (people + updates.count, people, people)
    assert (
        shop.rows(
            "SELECT customer_id FROM gold.dim_customers GROUP BY ALL "
            "HAVING count(*) FILTER (is_current) <> 1"
        )
        == []
    )
    versioned = shop.rows(
        "SELECT customer_id FROM gold.dim_customers GROUP BY ALL HAVING count(*) > 1"
    )
    assert sorted(r[0] for r in versioned) == updates.ids()
    # The first version closes, and the second begins, when drop 2 says the change happened.
    drop2 = pacsv.read_csv(shop.data / "drop2" / "customers.csv").to_pylist()
    changed_at = {
        r["customer_id"]: r["updated_at"] for r in drop2 if r["customer_id"] in updates.keys
    }
    history: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for key, valid_from, valid_to, is_current in shop.rows(
        "SELECT customer_id, valid_from, valid_to, is_current FROM gold.dim_customers "
        f"WHERE customer_id IN ({', '.join(map(str, updates.ids()))}) ORDER BY valid_from"
    ):
        history[key].append((valid_from, valid_to, is_current))
    assert {key: [v[1:] for v in versions] for key, versions in history.items()} == {
        key: [(when, False), (None, True)] for key, when in changed_at.items()
    }
    assert {key: versions[1][0] for key, versions in history.items()} == changed_at
    dim = next(s for s in shop.after_drop2["steps"] if s["step"] == "gold.dim_customers")
    assert f"{updates.count} earlier version(s) closed" in dim["notes"]


def _saved(shop: Shop, name: str, *, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    result = sluiceway("query", "--saved", name, "-f", "json", cwd=shop.project, env=env)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.mark.parametrize("name", sorted(SAVED))
def test_each_saved_query_runs_and_returns_its_columns(shop: Shop, name: str) -> None:
    rows = _saved(shop, name)
    assert len(rows) > 0
    assert [list(row) for row in rows] == [SAVED[name]] * len(rows)


def test_top_products_match_an_independent_computation(shop: Shop) -> None:
    statuses = {key: status for key, (status, _, _) in _latest_bronze_orders(shop).items()}
    products = {
        r[0]: r[1:] for r in shop.rows("SELECT product_id, name, category FROM bronze.products")
    }
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    units: dict[int, int] = defaultdict(int)
    for order_id, product_id, quantity, price, discount in shop.rows(
        "SELECT order_id, product_id, quantity, unit_price, discount FROM bronze.order_items"
    ):
        if product_id in products and statuses[order_id] in REVENUE_STATUSES:
            revenue[product_id] += abs(quantity) * price * (1 - Decimal(str(discount)))
            units[product_id] += abs(quantity)
    top = sorted(revenue, key=lambda p: (-revenue[p], p))[:10]
    rows = _saved(shop, "top_products")
    assert [(r["product_id"], Decimal(r["revenue"]), r["units"]) for r in rows] == [
        (p, revenue[p].quantize(CENT), units[p]) for p in top
    ]
    assert [r["product_name"] for r in rows] == [products[p][0].strip() for p in top]


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_last_weeks_active_users_over_30_match_an_independent_computation(shop: Shop) -> None:
    customers = shop.rows(
        "SELECT customer_id, birth_date, signup_date, is_active FROM silver.customers"
    )
    last_day: date = max(signup for _, _, signup, _ in customers)
    expected = sorted(
        (-signup.toordinal(), key, _age(born, last_day))
        for key, born, signup, active in customers
        if active
        and signup > last_day - timedelta(days=7)
        and born is not None
        and _age(born, last_day) > 30
    )
    rows = _saved(shop, "active_users_over_30_signed_up_last_week")
    assert len(rows) > 0
    assert [(r["customer_id"], r["age"]) for r in rows] == [(k, a) for _, k, a in expected]
    assert {date.fromisoformat(r["signup_date"]) for r in rows} <= {
        last_day - timedelta(days=d) for d in range(7)
    }


def test_an_unknown_saved_query_is_a_clear_error_with_suggestions(shop: Shop) -> None:
    result = sluiceway("query", "--saved", "top_prodcts", cwd=shop.project)
    assert result.returncode == 1
    assert "no saved query named 'top_prodcts'" in result.stderr
    assert "Did you mean top_products?" in result.stderr
    assert "Traceback" not in result.stderr
    both = sluiceway("query", "SELECT 1", "--saved", "top_products", cwd=shop.project)
    assert both.returncode == 2
    assert "give either SQL or --saved NAME" in both.stderr
    writing = sluiceway("query", "--saved", "top_products", "--write", cwd=shop.project)
    assert writing.returncode == 2
    assert "a saved query runs read-only" in writing.stderr


def test_queries_lists_the_saved_queries_and_a_project_query_wins(shop: Shop) -> None:
    listed = json.loads(sluiceway("queries", "--json", cwd=shop.project).stdout)
    assert {q["name"]: q["origin"] for q in listed} == dict.fromkeys(SAVED, "demo")
    assert all(q["description"] for q in listed)
    table = sluiceway("queries", cwd=shop.project)
    assert table.returncode == 0, table.stderr
    assert "top_products" in table.stdout
    assert "The ten products that brought in the most revenue" in table.stdout
    shown = sluiceway("queries", "top_products", cwd=shop.project)
    bundled = resources.files("sluiceway.demo").joinpath("queries", "top_products.sql")
    assert shown.stdout == bundled.read_text("utf-8")
    ours = shop.project / "queries" / "top_products.sql"
    ours.parent.mkdir()
    ours.write_text("-- description: ours\nSELECT 42 AS answer\n", encoding="utf-8")
    try:
        assert _saved(shop, "top_products") == [{"answer": 42}]
        listed = json.loads(sluiceway("queries", "--json", cwd=shop.project).stdout)
        assert {q["name"]: q["origin"] for q in listed}["top_products"] == "project"
    finally:
        shutil.rmtree(ours.parent)


def test_lineage_traces_gold_revenue_back_to_the_files(shop: Shop) -> None:
    result = sluiceway("lineage", "gold.daily_revenue.revenue", cwd=shop.project)
    assert result.returncode == 0, result.stderr
    for step in (
        "gold.fact_orders.revenue",
        "silver.orders.order_amount",
        "bronze.orders.total_amount",
        "csv:orders.csv.gz",
    ):
        assert step in result.stdout


# -- PostgreSQL -----------------------------------------------------------------------------


def _postgres_pipeline(name: str, data: Path, env_var: str, *, checks: bool) -> str:
    """A bundled loading pipeline pointed at ``data`` and at PostgreSQL."""
    spec: dict[str, Any] = yaml.safe_load(PIPELINES.joinpath(name).read_text("utf-8"))
    for source in spec["sources"].values():
        source["path"] = str(data / source["path"])
        if not checks:
            source.pop("checks", None)
    spec["warehouse"] = {"type": "postgres", "connection": f"${{{env_var}}}"}
    return yaml.safe_dump(spec, sort_keys=False)


def _fingerprint(rows: list[tuple[Any, ...]]) -> list[Decimal]:
    """One row of counts and sums, as exact numbers whatever type each engine gave them."""
    return [Decimal(str(v)) if v is not None else Decimal(0) for v in rows[0]]


def test_the_gold_layer_gives_the_same_figures_on_postgresql(
    shop: Shop, pg_url: str, tmp_path: Path
) -> None:
    dsn = libpq_url(pg_url)
    env = {"GOLD_PG": dsn}
    # Drop 1's rules only report defects; one of them reads DuckDB's COLUMNS(), which has no
    # PostgreSQL form, so bronze is loaded here without them.
    (tmp_path / "drop1.yaml").write_text(
        _postgres_pipeline("ecommerce.yaml", shop.data, "GOLD_PG", checks=False)
    )
    (tmp_path / "drop2.yaml").write_text(
        _postgres_pipeline("ecommerce_drop2.yaml", shop.data, "GOLD_PG", checks=True)
    )
    # the default pool (4) and max_workers (4): streams take no pooled connection
    _copy_gold(
        tmp_path,
        "\nwarehouse: {type: postgres, connection: '${GOLD_PG}'}\n",
    )
    _run(tmp_path, "drop1.yaml", env=env)
    _run(tmp_path, "drop2.yaml", env=env)
    gold = _run(tmp_path, env=env)
    assert {s["step"]: s["status"] for s in gold["steps"]} == dict.fromkeys(TABLES, "succeeded")
    for table, columns in TABLES.items():
        summed = [c for c, kind in columns.items() if kind.startswith(("DECIMAL", "BIGINT", "INT"))]
        where = " WHERE is_current" if table == "gold.dim_customers" else ""
        sql = (
            f"SELECT count(*), {', '.join(f'sum({c})' for c in summed) or '0'} FROM {table}{where}"
        )
        assert _fingerprint(postgres_rows(dsn, sql)) == _fingerprint(shop.rows(sql)), table
    for name in ("top_products", "revenue_by_state_and_month", "monthly_active_users"):
        on_postgres = sluiceway("query", "--saved", name, "-f", "json", cwd=tmp_path, env=env)
        assert on_postgres.returncode == 0, on_postgres.stderr
        assert json.loads(on_postgres.stdout) == _saved(shop, name), name


def test_rfm_scores_and_segments_reconcile_with_the_facts(shop: Shop) -> None:
    facts = shop.rows(
        "SELECT customer_id, max(order_date), count(*), sum(revenue) FROM gold.fact_orders "
        "WHERE is_revenue AND customer_id IS NOT NULL GROUP BY customer_id"
    )
    rfm = {
        int(c): (int(r), int(f), Decimal(str(m)), int(rs), int(fs), int(ms), seg)
        for c, r, f, m, rs, fs, ms, seg in shop.rows(
            "SELECT customer_id, recency, frequency, monetary, r_score, f_score, m_score, "
            "rfm_segment FROM gold.customer_rfm"
        )
    }
    as_of = date(2026, 1, 1)
    assert {c: (r, f, m) for c, (r, f, m, *_) in rfm.items()} == {
        int(c): ((as_of - last).days, int(n), Decimal(str(total))) for c, last, n, total in facts
    }
    assert {(rs, fs, ms) for *_, rs, fs, ms, _ in rfm.values()} <= {
        (r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)
    }
    assert all(seg == f"{rs}{fs}{ms}" for *_, rs, fs, ms, seg in rfm.values())

    def expected(r: int, f: int) -> str:
        if r >= 4 and f >= 4:
            return "champions"
        if f >= 4:
            return "loyal"
        if r >= 4 and f <= 2:
            return "new"
        if r <= 2 and f >= 3:
            return "at_risk"
        return "lost" if r <= 2 and f <= 2 else "needs_attention"

    segments = shop.rows("SELECT customer_id, segment, value_score FROM gold.customer_segments")
    assert {int(c): (seg, int(v)) for c, seg, v in segments} == {
        c: (expected(rs, fs), rs + fs + ms) for c, (*_, rs, fs, ms, _) in rfm.items()
    }
    assert len({seg for _, seg, _ in segments}) == 6  # every rule catches someone

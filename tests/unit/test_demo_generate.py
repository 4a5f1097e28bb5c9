"""The demo generator: every file, every defect and every count checked against the files.

Files are read back independently of the generator (DuckDB for CSV, Parquet and JSON, openpyxl
for the workbook); the generator's vocabulary is used only as reference data (which city lies in
which state). One dataset at scale 0.02 with small chunks (so every entity spans several chunks)
is generated per module and shared by the read-only tests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sluiceway.core.errors import ConfigError, SluicewayError
from sluiceway.demo import vocab
from sluiceway.demo.draws import Draws
from sluiceway.demo.generate import DEFAULT_AS_OF, generate
from sluiceway.demo.manifest import DefectRecord, Manifest
from sluiceway.demo.ndjson import json_number, json_object, json_string, member, ndjson_bytes

pytestmark = pytest.mark.unit

SCALE = 0.02
CHUNK_ROWS = 97  # small and odd, so chunk boundaries fall everywhere
EMAIL_RE = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
NAME_RE = r"^[A-Z][a-z]+$"
CITY_RE = r"^[A-Z][a-z.]+( [A-Z][a-z.]+)*$"
STATE_CODES = frozenset(vocab.STATE_CODES)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, scale=SCALE, chunk_rows=CHUNK_ROWS)
    return folder


@pytest.fixture(scope="module")
def manifest(out: Path) -> Manifest:
    return Manifest.load(out / "manifest.json")


@pytest.fixture(scope="module")
def db(out: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Views over the generated files, as a pipeline would read them."""
    con = duckdb.connect()
    decimal_total = "{'total_amount': 'DECIMAL(12,2)'}"
    views = {
        "customers": f"read_csv('{out}/customers.csv', types={{'zip': 'VARCHAR'}})",
        "orders": f"read_csv('{out}/orders.csv.gz', types={decimal_total})",
        "items": f"read_parquet('{out}/order_items.parquet')",
        "payments": f"read_json('{out}/payments.ndjson', columns={{"
        "'payment_id': 'BIGINT', 'order_id': 'BIGINT', 'method': 'VARCHAR', "
        "'amount': 'DECIMAL(12,2)', 'currency': 'VARCHAR', 'paid_at': 'VARCHAR', "
        "'status': 'VARCHAR'})",
        "events": f"read_json('{out}/web_events/part-*.ndjson.zst')",
        "customers2": f"read_csv('{out}/drop2/customers.csv', types={{'zip': 'VARCHAR'}})",
        "orders2": f"read_csv('{out}/drop2/orders.csv.gz', types={decimal_total})",
    }
    for name, source in views.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {source}")
    yield con
    con.close()


def ids(con: duckdb.DuckDBPyConnection, sql: str) -> list[int]:
    """The first column of a query as sorted ints."""
    return sorted(int(row[0]) for row in con.execute(sql).fetchall())


def products(out: Path) -> list[dict[str, object]]:
    workbook = openpyxl.load_workbook(out / "products.xlsx", read_only=True)
    try:
        assert workbook.sheetnames == ["products"]
        rows = list(workbook["products"].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = [str(cell) for cell in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def query(sql: str) -> list[tuple[object, ...]]:
    """Rows of a one-off query on a fresh in-memory DuckDB."""
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- files and counts -------------------------------------------------------------------------


def test_every_file_is_listed_with_its_rows_and_hash(out: Path, manifest: Manifest) -> None:
    on_disk = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert on_disk == sorted(manifest.files)
    for relative, record in manifest.files.items():
        assert record.path == relative
        assert record.sha256 == sha256(out / relative)
        assert record.bytes == (out / relative).stat().st_size
    parts = [path for path in manifest.files if path.startswith("web_events/")]
    assert len(parts) > 1, "small chunks must split the web events into several parts"


def test_row_counts_match_the_files(
    out: Path, manifest: Manifest, db: duckdb.DuckDBPyConnection
) -> None:
    counted = {
        "customers.csv": "customers",
        "orders.csv.gz": "orders",
        "order_items.parquet": "items",
        "payments.ndjson": "payments",
        "drop2/customers.csv": "customers2",
        "drop2/orders.csv.gz": "orders2",
    }
    for path, view in counted.items():
        (rows,) = db.execute(f"SELECT count(*) FROM {view}").fetchone() or (None,)
        assert rows == manifest.files[path].rows, path
    assert len(products(out)) == manifest.files["products.xlsx"].rows
    (events,) = db.execute("SELECT count(*) FROM events").fetchone() or (None,)
    assert events == manifest.entities["web_events"].rows
    assert events == sum(r.rows for p, r in manifest.files.items() if p.startswith("web_events/"))


def test_entity_arithmetic(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    keys = {
        "customers": ("customers", "customer_id"),
        "orders": ("orders", "order_id"),
        "order_items": ("items", "order_item_id"),
        "payments": ("payments", "payment_id"),
        "web_events": ("events", "event_id"),
    }
    for entity, (view, key) in keys.items():
        record = manifest.entities[entity]
        (distinct,) = db.execute(f"SELECT count(DISTINCT {key}) FROM {view}").fetchone() or (None,)
        assert record.rows - record.duplicate_rows == record.unique_keys == distinct, entity
    customers = manifest.entities["customers"]
    assert customers.duplicate_rows == manifest.defects["customers.exact_duplicate_rows"].count
    assert customers.near_duplicate_rows == manifest.defects["customers.near_duplicates"].count
    assert customers.unique_keys - customers.near_duplicate_rows == round(20_000 * SCALE)
    assert manifest.entities["orders"].unique_keys == round(100_000 * SCALE)
    assert manifest.entities["products"].rows == round(2_000 * SCALE)
    assert manifest.entities["web_events"].rows == round(300_000 * SCALE)
    lines_per_order = (
        manifest.entities["order_items"].rows / manifest.entities["orders"].unique_keys
    )
    assert 2.2 < lines_per_order < 2.8


def test_manifest_round_trips_and_is_canonical_json(out: Path, manifest: Manifest) -> None:
    text = (out / "manifest.json").read_text()
    assert text == manifest.to_json()
    assert json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n" == text
    assert manifest.seed == 42
    assert manifest.scale == SCALE
    assert manifest.as_of == DEFAULT_AS_OF == date(2026, 1, 1)
    assert manifest.drop1_cutoff == date(2025, 12, 25)


def test_defect_ids_and_counts(manifest: Manifest) -> None:
    for defect_id, record in manifest.defects.items():
        assert record.id == defect_id
        assert record.count == len(record.keys) >= 1, defect_id
        assert record.file in manifest.files
        assert record.keys == sorted(record.keys), defect_id
    assert set(manifest.defects) >= {
        "customers.exact_duplicate_rows",
        "customers.near_duplicates",
        "customers.null_email",
        "customers.invalid_email",
        "customers.invalid_phone",
        "customers.noncanonical_state",
        "customers.stray_whitespace_case",
        "customers.future_birth_date",
        "products.negative_price",
        "products.absurd_price",
        "products.null_category",
        "orders.orphan_customer",
        "orders.null_customer_id",
        "orders.exact_duplicate_rows",
        "orders.noncanonical_state",
        "order_items.negative_quantity",
        "order_items.orphan_product",
        "payments.amount_mismatch",
        "payments.duplicate_payment",
    }
    # Counts follow max(1, round(rate * rows)).
    assert manifest.defects["customers.noncanonical_state"].count == round(0.02 * 400)
    assert manifest.defects["orders.noncanonical_state"].count == round(0.01 * 2000)


def test_defects_are_disjoint_within_each_file(manifest: Manifest) -> None:
    by_file: dict[str, dict[int, str]] = {}
    for record in manifest.defects.values():
        if record.id == "payments.duplicate_payment":
            continue  # keyed by payment_id, while payments.amount_mismatch is keyed by order_id
        seen = by_file.setdefault(record.file, {})
        rows = (
            [k for pair in record.pairs() for k in pair]
            if record.id.endswith("near_duplicates")
            else record.ids()
        )
        for key in rows:
            assert key not in seen, f"{record.id} and {seen[key]} both damage key {key}"
            seen[key] = record.id


# --- customers --------------------------------------------------------------------------------


def defect_ids(manifest: Manifest, defect: str) -> list[int]:
    return manifest.defects[defect].ids()


def near_duplicate_ids(manifest: Manifest) -> list[int]:
    return [copy for _, copy in manifest.defects["customers.near_duplicates"].pairs()]


def test_customer_exact_duplicates(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    groups = db.execute(
        "SELECT customer_id, count(*) AS n FROM customers GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert sum(n - 1 for _, n in groups) == manifest.defects["customers.exact_duplicate_rows"].count
    assert sorted(cid for cid, _ in groups) == defect_ids(
        manifest, "customers.exact_duplicate_rows"
    )


def test_customer_near_duplicates(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    pairs = manifest.defects["customers.near_duplicates"].pairs()
    first_registrations = round(20_000 * SCALE)
    for original, copy in pairs:
        rows = db.execute(
            "SELECT customer_id, first_name, last_name, email, birth_date, city FROM customers "
            "WHERE customer_id IN (?, ?) ORDER BY customer_id",
            [original, copy],
        ).fetchall()
        assert len(rows) == 2
        (_, f1, l1, e1, b1, c1), (_, f2, l2, e2, b2, c2) = rows
        assert copy > first_registrations >= original
        assert (f1.strip().lower(), l1.strip().lower()) == (f2.strip().lower(), l2.strip().lower())
        assert e1.strip().lower() == e2.strip().lower()
        assert (b1, c1) == (b2, c2)
        assert (f1, l1, e1) != (f2, l2, e2)
    # No other two customer ids share a (valid) address.
    found = db.execute(
        f"""SELECT min(customer_id), max(customer_id) FROM customers
            WHERE regexp_full_match(trim(email), '{EMAIL_RE}')
            GROUP BY lower(trim(email)) HAVING count(DISTINCT customer_id) > 1"""
    ).fetchall()
    assert sorted((int(a), int(b)) for a, b in found) == pairs


def test_customer_emails(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    assert ids(db, "SELECT customer_id FROM customers WHERE email IS NULL OR trim(email) = ''") == (
        defect_ids(manifest, "customers.null_email")
    )
    invalid = ids(
        db,
        f"""SELECT customer_id FROM customers WHERE trim(email) <> ''
            AND NOT regexp_full_match(trim(email), '{EMAIL_RE}')""",
    )
    assert invalid == defect_ids(manifest, "customers.invalid_email")
    # Outside the near-duplicates, valid addresses are stored exactly as typed: lower case, trimmed.
    untidy = ids(db, "SELECT customer_id FROM customers WHERE email <> lower(trim(email))")
    assert set(untidy) - set(invalid) <= set(near_duplicate_ids(manifest))


def test_customer_phones(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    bad = ids(
        db,
        """SELECT customer_id FROM customers,
           (SELECT 1) AS _ WHERE NOT (
             regexp_full_match(phone, '[0-9()+. -]+')
             AND (length(regexp_replace(phone, '[^0-9]', '', 'g')) = 10
                  OR regexp_replace(phone, '[^0-9]', '', 'g') ~ '^1[0-9]{10}$'))""",
    )
    assert bad == defect_ids(manifest, "customers.invalid_phone")


def test_customer_states(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    record = manifest.defects["customers.noncanonical_state"]
    rows = db.execute("SELECT customer_id, state, city FROM customers").fetchall()
    state_of_city = {city.name: vocab.STATES[s].code for s, city in vocab.CITIES}
    odd = sorted({cid for cid, state, _ in rows if state not in STATE_CODES})
    assert odd == record.ids()
    assert record.variants is not None
    for cid, state, city in rows:
        if state not in STATE_CODES:
            assert record.variants[state].canonical == state_of_city[city.strip()], (cid, state)
    # Exact duplicates repeat a row, so count variants over distinct customers as the manifest does.
    distinct = {cid: state for cid, state, _ in rows if state not in STATE_CODES}
    per_variant: dict[str, int] = {}
    for state in distinct.values():
        per_variant[state] = per_variant.get(state, 0) + 1
    assert {k: v.count for k, v in record.variants.items()} == per_variant
    assert sum(v.count for v in record.variants.values()) == record.count


def test_customer_whitespace_and_case(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    messy = ids(
        db,
        f"""SELECT customer_id FROM customers WHERE NOT (
              regexp_full_match(first_name, '{NAME_RE}')
              AND regexp_full_match(last_name, '{NAME_RE}')
              AND regexp_full_match(city, '{CITY_RE}'))""",
    )
    expected = set(defect_ids(manifest, "customers.stray_whitespace_case"))
    assert set(messy) - set(near_duplicate_ids(manifest)) == expected
    cities = {city.name for _, city in vocab.CITIES}
    for (city,) in db.execute("SELECT DISTINCT city FROM customers").fetchall():
        assert city.strip().lower() in {c.lower() for c in cities}


def test_customer_birth_dates(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    as_of = manifest.as_of
    future = ids(db, f"SELECT customer_id FROM customers WHERE birth_date > DATE '{as_of}'")
    assert future == defect_ids(manifest, "customers.future_birth_date")
    ancient = ids(db, "SELECT customer_id FROM customers WHERE birth_date < DATE '1900-01-02'")
    assert ancient == defect_ids(manifest, "customers.absurd_birth_date")
    (youngest, oldest) = db.execute(
        f"""SELECT max(birth_date), min(birth_date) FROM customers
            WHERE birth_date BETWEEN DATE '1900-01-02' AND DATE '{as_of}'"""
    ).fetchone() or (None, None)
    assert youngest is not None
    assert oldest is not None
    assert youngest <= as_of - timedelta(days=18 * 365)
    assert oldest >= as_of - timedelta(days=90 * 365)


def test_customer_columns_and_types(out: Path, db: duckdb.DuckDBPyConnection) -> None:
    header = (out / "customers.csv").read_text().splitlines()[0]
    assert header.replace('"', "").split(",") == [
        "customer_id", "first_name", "last_name", "email", "phone", "birth_date",
        "signup_date", "state", "city", "zip", "is_active", "credit_limit", "updated_at",
    ]  # fmt: skip
    zips = [z for (z,) in db.execute("SELECT zip FROM customers").fetchall()]
    assert all(re.fullmatch(r"\d{5}", z) for z in zips)
    assert any(z.startswith("0") for z in zips), "New England and New Jersey zips keep the 0"
    described = query(f"DESCRIBE SELECT * FROM read_csv('{out}/customers.csv')")
    sniffed = {str(name): str(kind) for name, kind, *_ in described}
    assert sniffed["credit_limit"] == "BIGINT"
    assert sniffed["updated_at"] == "TIMESTAMP"
    assert sniffed["is_active"] == "BOOLEAN"


# --- products ---------------------------------------------------------------------------------


def test_products(out: Path, manifest: Manifest) -> None:
    rows = products(out)
    assert list(rows[0]) == [
        "product_id", "sku", "name", "category", "price", "cost", "weight_kg", "active",
        "created_at",
    ]  # fmt: skip
    prices = {int(str(r["product_id"])): float(str(r["price"])) for r in rows}
    assert sorted(p for p, price in prices.items() if price < 0) == defect_ids(
        manifest, "products.negative_price"
    )
    assert sorted(p for p, price in prices.items() if price > 100_000) == defect_ids(
        manifest, "products.absurd_price"
    )
    no_category = sorted(int(str(r["product_id"])) for r in rows if r["category"] is None)
    assert no_category == defect_ids(manifest, "products.null_category")
    assert all(round(price, 2) == price for price in prices.values())


# --- orders, items, payments ------------------------------------------------------------------


def test_order_customers(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    orphans = ids(
        db,
        """SELECT DISTINCT order_id FROM orders WHERE customer_id IS NOT NULL
           AND customer_id NOT IN (SELECT customer_id FROM customers)
           AND customer_id NOT IN (SELECT customer_id FROM customers2)""",
    )
    assert orphans == defect_ids(manifest, "orders.orphan_customer")
    nulls = ids(db, "SELECT DISTINCT order_id FROM orders WHERE customer_id IS NULL")
    assert nulls == defect_ids(manifest, "orders.null_customer_id")


def test_order_duplicates_and_states(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    groups = db.execute(
        "SELECT order_id, count(*) FROM orders GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert sorted(oid for oid, _ in groups) == defect_ids(manifest, "orders.exact_duplicate_rows")
    assert all(n == 2 for _, n in groups)
    record = manifest.defects["orders.noncanonical_state"]
    assert record.variants is not None
    odd = db.execute("SELECT DISTINCT order_id, shipping_state FROM orders").fetchall()
    odd = [(oid, s) for oid, s in odd if s not in STATE_CODES]
    assert sorted(oid for oid, _ in odd) == record.ids()
    names = {
        s.code: {s.name.lower(), s.code.lower(), (s.ap_abbr or s.code).lower()}
        for s in vocab.STATES
    }
    for _, state in odd:
        canonical = record.variants[state].canonical
        assert (
            state.strip().lower() in names[canonical]
            or state.replace(".", "").lower() in names[canonical]
        )


def test_order_statuses_and_times(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    statuses = {s for (s,) in db.execute("SELECT DISTINCT status FROM orders").fetchall()}
    assert statuses <= {"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}
    channels = {c for (c,) in db.execute("SELECT DISTINCT channel FROM orders").fetchall()}
    assert channels <= {"web", "mobile", "store", "marketplace"}
    first, last, stale = db.execute(
        """SELECT min(order_ts), max(updated_at), count(*) FILTER (WHERE updated_at < order_ts)
           FROM orders"""
    ).fetchone() or (None, None, None)
    assert first is not None
    assert last is not None
    assert first.date() >= manifest.as_of - timedelta(days=730)
    assert last.date() < manifest.drop1_cutoff
    assert stale == 0
    # Old orders have settled; only the last days still have pending ones.
    (young_pending,) = db.execute(
        f"""SELECT count(*) FROM orders WHERE status = 'pending'
            AND order_ts < DATE '{manifest.drop1_cutoff}' - INTERVAL 3 DAY"""
    ).fetchone() or (None,)
    assert young_pending == 0


def test_order_items(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    negative = ids(db, "SELECT order_item_id FROM items WHERE quantity < 0")
    assert negative == defect_ids(manifest, "order_items.negative_quantity")
    orphans = ids(
        db,
        f"""SELECT order_item_id FROM items
            WHERE product_id NOT BETWEEN 1 AND {manifest.entities["products"].rows}""",
    )
    assert orphans == defect_ids(manifest, "order_items.orphan_product")
    (discounts_ok,) = db.execute(
        "SELECT bool_and(discount BETWEEN 0 AND 0.3) FROM items"
    ).fetchone() or (None,)
    assert discounts_ok


def test_order_totals_equal_the_sum_of_their_items(
    manifest: Manifest, db: duckdb.DuckDBPyConnection
) -> None:
    damaged = defect_ids(manifest, "order_items.negative_quantity")
    rows = db.execute(
        """WITH lines AS (
             SELECT order_id,
                    sum(quantity * CAST(unit_price * 100 AS BIGINT)
                        * (100 - CAST(round(discount * 100) AS BIGINT))) AS hundredths,
                    bool_or(list_contains(?, order_item_id)) AS damaged
             FROM items GROUP BY order_id)
           SELECT DISTINCT o.order_id, CAST(o.total_amount * 100 AS BIGINT), l.hundredths, l.damaged
           FROM orders o JOIN lines l USING (order_id)""",
        [damaged],
    ).fetchall()
    assert len(rows) == manifest.entities["orders"].unique_keys
    mismatched = sorted(
        oid for oid, cents, hundredths, _ in rows if cents != (hundredths + 50) // 100
    )
    damaged_orders = sorted(oid for oid, *_, bad in rows if bad)
    assert set(mismatched) <= set(damaged_orders)
    assert all(not bad for oid, *_, bad in rows if oid not in damaged_orders)


def test_payments(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    wrong = ids(
        db,
        """SELECT DISTINCT p.order_id FROM payments p
           JOIN (SELECT DISTINCT order_id, total_amount FROM orders) o USING (order_id)
           WHERE p.amount <> o.total_amount""",
    )
    assert wrong == defect_ids(manifest, "payments.amount_mismatch")
    (wrong_status,) = db.execute(
        f"""SELECT count(*) FROM payments WHERE status <> 'captured'
            AND list_contains({wrong}, order_id) AND amount <> (
              SELECT DISTINCT total_amount FROM orders o WHERE o.order_id = payments.order_id)"""
    ).fetchone() or (None,)
    assert wrong_status == 0, "only captured payments carry a wrong amount"
    twins = db.execute(
        """SELECT min(payment_id), max(payment_id), count(*) FROM payments
           GROUP BY order_id, method, amount, currency, paid_at, status HAVING count(*) > 1"""
    ).fetchall()
    assert all(n == 2 for *_, n in twins)
    assert (
        sorted((int(a), int(b)) for a, b, _ in twins)
        == manifest.defects["payments.duplicate_payment"].pairs()
    )
    unpaid = ids(
        db,
        """SELECT DISTINCT order_id FROM orders WHERE status = 'pending'
           AND order_id IN (SELECT order_id FROM payments)""",
    )
    assert unpaid == []
    (retried,) = db.execute(
        """SELECT count(*) FROM (SELECT order_id FROM payments GROUP BY order_id
           HAVING bool_or(status = 'failed') AND bool_or(status = 'captured'))"""
    ).fetchone() or (None,)
    assert retried is not None
    assert retried > 0


# --- web events -------------------------------------------------------------------------------


def test_web_events(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    total, distinct, anonymous, types = db.execute(
        """SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE customer_id IS NULL),
                  list(DISTINCT event_type ORDER BY event_type)
           FROM events"""
    ).fetchone() or (None, None, None, None)
    assert total == distinct == manifest.entities["web_events"].rows
    assert anonymous is not None
    assert 0 < anonymous < total
    assert types == ["add_to_cart", "checkout", "page_view", "purchase", "search"]
    (os_names,) = db.execute(
        "SELECT list(DISTINCT properties.device.os ORDER BY properties.device.os) FROM events"
    ).fetchone() or (None,)
    assert os_names is not None
    assert "iOS" in os_names
    (searches_with_query,) = db.execute(
        "SELECT bool_and(properties.query IS NOT NULL) FROM events WHERE event_type = 'search'"
    ).fetchone() or (None,)
    assert searches_with_query


# --- drop 2 -----------------------------------------------------------------------------------


def test_drop2_schema_change(out: Path, manifest: Manifest) -> None:
    def columns(path: str) -> dict[str, str]:
        described = query(f"DESCRIBE SELECT * FROM read_csv('{out}/{path}')")
        return {str(name): str(kind) for name, kind, *_ in described}

    before, after = columns("customers.csv"), columns("drop2/customers.csv")
    change = manifest.drop2.schema_change
    assert change.added == ["loyalty_tier"]
    assert change.renamed == {"phone": "phone_number"}
    assert change.widened == {"credit_limit": ("BIGINT", "DOUBLE")}
    assert sorted(set(after) - set(before)) == sorted([*change.added, *change.renamed.values()])
    assert sorted(set(before) - set(after)) == sorted(change.renamed)
    for column, (old, new) in change.widened.items():
        assert (before[column], after[column]) == (old, new)
    assert {
        k: v for k, v in before.items() if k not in change.renamed and k not in change.widened
    } == {k: v for k, v in after.items() if k in before and k not in change.widened}


def test_drop2_customer_updates_and_new(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    updates = manifest.drop2.changes["drop2.customers.updates"].ids()
    new = manifest.drop2.changes["drop2.customers.new"].ids()
    assert updates
    assert new
    in_drop2 = ids(db, "SELECT customer_id FROM customers2")
    assert in_drop2 == sorted(updates + new)
    assert (
        ids(
            db,
            """SELECT customer_id FROM customers2
               WHERE customer_id IN (SELECT customer_id FROM customers)""",
        )
        == updates
    )
    changed = db.execute(
        """SELECT n.customer_id,
                  n.updated_at > o.updated_at,
                  (n.first_name, n.last_name, n.email, n.phone_number, n.state, n.city, n.zip,
                   n.is_active, n.credit_limit)
                  IS DISTINCT FROM
                  (o.first_name, o.last_name, o.email, o.phone, o.state, o.city, o.zip,
                   o.is_active, CAST(o.credit_limit AS DOUBLE))
           FROM customers2 n JOIN (SELECT DISTINCT * FROM customers) o USING (customer_id)"""
    ).fetchall()
    assert len(changed) == len(updates)
    assert all(later and differs for _, later, differs in changed)
    (fresh_signups,) = db.execute(
        f"""SELECT bool_and(signup_date >= DATE '{manifest.drop1_cutoff}')
            FROM customers2 WHERE customer_id NOT IN (SELECT customer_id FROM customers)"""
    ).fetchone() or (None,)
    assert fresh_signups
    tiers = {t for (t,) in db.execute("SELECT DISTINCT loyalty_tier FROM customers2").fetchall()}
    assert tiers <= {"bronze", "silver", "gold", "platinum"}


def test_drop2_late_order_updates(manifest: Manifest, db: duckdb.DuckDBPyConnection) -> None:
    late = manifest.drop2.changes["drop2.orders.late_updates"].ids()
    new = manifest.drop2.changes["drop2.orders.new"].ids()
    assert late
    assert new
    assert (
        ids(db, "SELECT order_id FROM orders2 WHERE order_id IN (SELECT order_id FROM orders)")
        == late
    )
    assert ids(db, "SELECT order_id FROM orders2") == sorted(late + new)
    rows = db.execute(
        """SELECT n.order_id, o.order_ts, n.order_ts, o.updated_at, n.updated_at,
                  o.status, n.status, o.total_amount = n.total_amount
           FROM orders2 n JOIN (SELECT DISTINCT * FROM orders) o USING (order_id)"""
    ).fetchall()
    assert len(rows) == len(late)
    horizon = manifest.as_of - timedelta(days=30)
    for _, old_ts, new_ts, old_updated, new_updated, old_status, new_status, same_total in rows:
        assert old_ts == new_ts
        assert old_ts.date() <= horizon
        assert new_updated > old_updated
        assert new_updated.date() >= manifest.drop1_cutoff
        assert (old_status, new_status) == ("delivered", "refunded")
        assert same_total
    (new_in_window,) = db.execute(
        f"""SELECT bool_and(order_ts >= DATE '{manifest.drop1_cutoff}'
                            AND order_ts < DATE '{manifest.as_of}')
            FROM orders2 WHERE order_id NOT IN (SELECT order_id FROM orders)"""
    ).fetchone() or (None,)
    assert new_in_window


# --- determinism ------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes(out: Path, manifest: Manifest, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", scale=SCALE, chunk_rows=CHUNK_ROWS)
    assert again == manifest
    assert (tmp_path / "again" / "manifest.json").read_bytes() == (
        out / "manifest.json"
    ).read_bytes()
    for relative in manifest.files:
        assert sha256(tmp_path / "again" / relative) == sha256(out / relative), relative


def test_chunk_size_only_changes_how_events_are_split(
    out: Path, manifest: Manifest, tmp_path: Path
) -> None:
    """Bigger chunks: every file is byte-identical except Parquet row groups and event parts."""
    big = generate(tmp_path / "big", scale=SCALE)
    for relative, record in big.files.items():
        if relative.startswith("web_events/") or relative.endswith(".parquet"):
            continue
        assert record.sha256 == manifest.files[relative].sha256, relative
    (differences,) = query(
        f"""SELECT count(*) FROM (
              (SELECT * FROM read_parquet('{out}/order_items.parquet')
               EXCEPT ALL SELECT * FROM read_parquet('{tmp_path}/big/order_items.parquet'))
              UNION ALL
              (SELECT * FROM read_parquet('{tmp_path}/big/order_items.parquet')
               EXCEPT ALL SELECT * FROM read_parquet('{out}/order_items.parquet')))"""
    )[0]
    assert differences == 0
    assert big.defects == manifest.defects
    assert big.entities["web_events"].rows == manifest.entities["web_events"].rows


def test_another_seed_gives_other_data(manifest: Manifest, tmp_path: Path) -> None:
    other = generate(tmp_path / "other", scale=SCALE, seed=7, chunk_rows=CHUNK_ROWS)
    for relative in ("customers.csv", "orders.csv.gz", "payments.ndjson", "products.xlsx"):
        assert other.files[relative].sha256 != manifest.files[relative].sha256
    assert (
        other.defects["orders.orphan_customer"].keys
        != manifest.defects["orders.orphan_customer"].keys
    )


def test_rerun_replaces_stale_event_parts(tmp_path: Path) -> None:
    generate(tmp_path, scale=0.005, chunk_rows=200)
    many = sorted((tmp_path / "web_events").iterdir())
    result = generate(tmp_path, scale=0.005, chunk_rows=1000)
    few = sorted((tmp_path / "web_events").iterdir())
    assert len(few) < len(many)
    assert [p.relative_to(tmp_path).as_posix() for p in few] == sorted(
        p for p in result.files if p.startswith("web_events/")
    )
    assert not list(tmp_path.rglob("*.partial"))


# --- scales, progress, arguments --------------------------------------------------------------


def test_tiny_scale_still_writes_every_entity(tmp_path: Path) -> None:
    result = generate(tmp_path, scale=0.0001)
    for name, entity in result.entities.items():
        assert entity.rows >= 1, name
    for record in result.defects.values():
        assert record.count == len(record.keys)
    assert result.entities["customers"].unique_keys >= 1


def test_progress_reports_every_entity_to_completion(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    result = generate(tmp_path, scale=0.005, progress=lambda e, d, t: calls.append((e, d, t)))
    last: dict[str, tuple[int, int]] = {}
    for entity, done, total in calls:
        previous = last.get(entity, (0, total))[0]
        assert 0 <= previous <= done <= total
        last[entity] = (done, total)
    assert set(last) == {
        "customers", "products", "orders", "order_items", "payments", "web_events",
        "drop2/customers", "drop2/orders",
    }  # fmt: skip
    assert all(done == total for done, total in last.values())
    assert last["orders"][1] == result.entities["orders"].unique_keys


@pytest.mark.parametrize("scale", [0, -1, 1000.5, float("nan"), float("inf")])
def test_scale_out_of_range_is_a_config_error(tmp_path: Path, scale: float) -> None:
    with pytest.raises(ConfigError, match="scale"):
        generate(tmp_path, scale=scale)
    assert not list(tmp_path.iterdir()), "nothing is written for invalid arguments"


def test_other_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="seed"):
        generate(tmp_path, scale=0.01, seed=-1)
    with pytest.raises(ConfigError, match="chunk_rows"):
        generate(tmp_path, scale=0.01, chunk_rows=1)
    with pytest.raises(ConfigError, match="as_of"):
        generate(tmp_path, scale=0.01, as_of=date(1066, 10, 14))


def test_out_dir_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot write") as caught:
        generate(blocker / "out", scale=0.01)
    assert isinstance(caught.value, SluicewayError)
    assert caught.value.hint


def test_load_rejects_a_missing_or_foreign_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Manifest.load(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    with pytest.raises(ConfigError):
        Manifest.load(tmp_path / "other.json")


def test_defect_record_key_accessors() -> None:
    by_id = DefectRecord(id="x", file="f", columns=[], description="", count=2, keys=[1, 2])
    by_pair = DefectRecord(id="y", file="f", columns=[], description="", count=1, keys=[(1, 9)])
    assert by_id.ids() == [1, 2]
    assert by_pair.pairs() == [(1, 9)]
    with pytest.raises(TypeError):
        by_id.pairs()
    with pytest.raises(TypeError):
        by_pair.ids()


# --- vocabulary invariants the checks above rely on ------------------------------------------


def test_vocabulary_invariants() -> None:
    assert all(re.fullmatch(NAME_RE, n) for n in vocab.FIRST_NAMES + vocab.LAST_NAMES)
    assert all(re.fullmatch(CITY_RE, city.name) for _, city in vocab.CITIES)
    names = [city.name for _, city in vocab.CITIES]
    assert len(names) == len(set(names)), "a city name must identify its state"
    variants: dict[str, str] = {}
    for state in vocab.STATES:
        for variant in vocab.state_variants(state):
            assert variant not in STATE_CODES
            assert variants.setdefault(variant, state.code) == state.code, variant


# --- building blocks: properties ---------------------------------------------------------------

_JSON_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters=[chr(c) for c in range(32) if chr(c) not in "\n\r\t"],
    ),
    max_size=12,
)


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-(2**62), 2**62)), st.one_of(st.none(), _JSON_TEXT)
        ),
        max_size=20,
    )
)
def test_ndjson_encoder_round_trips_through_json_loads(
    rows: list[tuple[int | None, str | None]],
) -> None:
    numbers = pa.array([n for n, _ in rows], pa.int64())
    texts = pa.array([t for _, t in rows], pa.string())
    objects = json_object(
        [member("n", json_number(numbers)), member("t", json_string(texts), omit_null=True)]
    )
    lines = ndjson_bytes(objects).decode("utf-8").split("\n")
    assert lines[-1] == ""
    expected = [{"n": n} | ({} if t is None else {"t": t}) for n, t in rows]
    assert [json.loads(line) for line in lines[:-1]] == expected


@given(
    st.integers(0, 2**63 - 1), st.integers(1, 10**9), st.lists(st.integers(0, 2**40), max_size=50)
)
def test_draws_are_deterministic_and_in_range(seed: int, bound: int, keys: list[int]) -> None:
    draws, again = Draws(seed), Draws(seed)
    values = draws.below("x", np.array(keys, dtype=np.int64), bound)
    assert ((values >= 0) & (values < bound)).all()
    assert (values == again.below("x", np.array(keys, dtype=np.int64), bound)).all()
    picked = draws.weighted("w", np.array(keys, dtype=np.int64), [0.0, 1.0, 0.0, 2.0])
    assert set(picked.tolist()) <= {1, 3}

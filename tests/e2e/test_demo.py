"""`sluiceway demo` end to end: generate, load, and every row of every file accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from sluiceway.demo.manifest import Manifest
from tests.e2e.cli_process import sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TABLES = {
    "customers": ["customers.csv"],
    "products": ["products.xlsx"],
    "orders": ["orders.csv.gz"],
    "order_items": ["order_items.parquet"],
    "payments": ["payments.ndjson"],
}


def test_demo_loads_every_row_of_every_file(tmp_path: Path) -> None:
    result = sluiceway("demo", "--no-serve", "--scale", "0.05", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded"
    assert summary["rows_rejected"] == 0

    manifest = Manifest.load(tmp_path / ".sluiceway" / "demo" / "manifest.json")
    expected = {
        table: sum(manifest.files[f].rows for f in files) for table, files in TABLES.items()
    }
    expected["web_events"] = sum(
        record.rows for name, record in manifest.files.items() if name.startswith("web_events/")
    )
    warehouse = tmp_path / ".sluiceway" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {
            table: con.execute(f"SELECT count(*) FROM bronze.{table}").fetchall()[0][0]
            for table in expected
        }
        zips = con.execute("SELECT count(*) FROM bronze.customers WHERE zip LIKE '0%'").fetchall()[
            0
        ][0]
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'bronze' AND table_name = 'order_items'"
            ).fetchall()
        )
    assert counts == expected
    assert zips > 0  # zip codes with a leading zero survived as text
    assert types["unit_price"] == "DECIMAL(10,2)"

    steps = {s["step"]: s for s in summary["steps"]}
    assert {name: steps[name]["rows_inserted"] for name in expected} == expected

    # Re-running the demo replaces the bronze tables: same data, not doubled.
    again = sluiceway("demo", "--no-serve", "--scale", "0.05", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM bronze.orders").fetchall()[0][0] == expected["orders"]
        )
    runs = json.loads(sluiceway("runs", "--json", cwd=tmp_path).stdout)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]

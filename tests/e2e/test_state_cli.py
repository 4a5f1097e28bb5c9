"""`sluiceway state show|reset`: see where each cursor is, forget or move it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e

PIPELINE = """\
pipeline: shop
sources:
  orders:
    type: csv
    path: orders.csv
    columns: {updated_at: TIMESTAMP}
    incremental: {cursor: updated_at}
  customers:
    type: csv
    path: customers.csv
"""
ORDERS = "id,updated_at\n1,2024-03-01 08:00:00\n2,2024-03-02 08:00:00\n3,2024-03-03 08:00:00\n"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "sluiceway.yaml").write_text(PIPELINE)
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "customers.csv").write_text("id\n1\n")
    return tmp_path


def state(root: Path) -> list[dict[str, object]]:
    done = sluiceway("state", "show", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    # The cursor's rows (time cursors also keep the periods they processed: `state gaps`).
    rows = [r for r in rows if r["name"] == "cursor"]
    return rows


def orders(root: Path) -> int:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM orders").fetchall()[0][0])


def test_show_then_reset_and_move_the_cursor(shop: Path) -> None:
    early = sluiceway("state", "show", cwd=shop)
    assert early.returncode == 1
    assert "no warehouse" in early.stderr

    assert sluiceway("run", cwd=shop).returncode == 0
    (after,) = state(shop)
    assert after["column"] == "updated_at"
    assert after["value"] == "2024-03-03T08:00:00"
    assert after["load_id"]
    text = sluiceway("state", "show", cwd=shop)
    assert "2024-03-03T08:00:00" in text.stdout

    # Move it back a day: the next run re-reads the last row (append: it loads again).
    moved = sluiceway(
        "state", "reset", "--source", "orders", "--to", "2024-03-02 08:00:00", "--yes", cwd=shop
    )
    assert moved.returncode == 0, moved.stderr
    assert state(shop)[0]["value"] == "2024-03-02 08:00:00"
    assert sluiceway("run", cwd=shop).returncode == 0
    assert orders(shop) == 4

    # Without --yes the reset asks; answering no changes nothing.
    refused = sluiceway("state", "reset", cwd=shop, input="n\n")
    assert refused.returncode == 1
    assert state(shop)[0]["value"] == "2024-03-03T08:00:00"

    forgot = sluiceway("state", "reset", cwd=shop, input="y\n")
    assert forgot.returncode == 0, forgot.stderr
    assert state(shop)[0]["value"] is None
    assert sluiceway("run", cwd=shop).returncode == 0
    assert orders(shop) == 7  # everything again: the cursor started over


def test_reset_mistakes_are_clear(shop: Path) -> None:
    unknown = sluiceway("state", "reset", "--source", "nope", "--yes", cwd=shop)
    assert unknown.returncode == 1
    assert "no source 'nope'" in unknown.stderr
    assert "orders, customers" in unknown.stderr

    # With two incremental sources, --to must say which cursor it moves.
    (shop / "sluiceway.yaml").write_text(
        PIPELINE + "    incremental: {files: true}\n"  # customers tracks its files
    )
    ambiguous = sluiceway("state", "reset", "--to", "5", "--yes", cwd=shop)
    assert ambiguous.returncode == 1
    assert "--to sets one source's cursor" in ambiguous.stderr
    assert "orders, customers" in ambiguous.stderr


def test_reset_forgets_files_and_periods_too(shop: Path) -> None:
    (shop / "sluiceway.yaml").write_text(PIPELINE + "    incremental: {files: true}\n")
    assert sluiceway("run", cwd=shop).returncode == 0
    shown = sluiceway("state", "show", "--json", cwd=shop)
    rows = {(r["source"], r["name"]): r["value"] for r in json.loads(shown.stdout)}
    assert rows[("customers", "files")] == "1 file(s) read"
    assert rows[("orders", "periods")] == "2024-03-01 .. 2024-03-03, 0 gap(s)"

    reset = sluiceway("state", "reset", "--yes", cwd=shop)
    assert reset.returncode == 0, reset.stderr
    assert "cursor, files read and processed periods" in reset.stdout
    after = json.loads(sluiceway("state", "show", "--json", cwd=shop).stdout)
    assert {(r["source"], r["name"], r["value"]) for r in after} == {
        ("orders", "cursor", None),
        ("customers", "cursor", None),
    }
    # Both start over: every row again (appended).
    assert sluiceway("run", cwd=shop).returncode == 0
    assert orders(shop) == 6

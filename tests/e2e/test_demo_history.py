"""The demo's order history (scd2) against the generator's manifest: the second drop is picked
up incrementally when it arrives, its late refunds become the current versions of old orders
and close the delivered ones at the refund time, and every count matches the manifest."""

from __future__ import annotations

import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.csv as pacsv
import pytest

from sluiceway.demo.manifest import Manifest
from tests.e2e.cli_process import sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_order_history_takes_the_second_drop_incrementally(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generated = sluiceway("demo", "generate", "--out", str(data), "--scale", "0.05", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    manifest = Manifest.load(data / "manifest.json")
    pipeline = resources.files("sluiceway.demo").joinpath("pipelines", "ecommerce_history.yaml")
    (data / "sluiceway.yaml").write_text(pipeline.read_text("utf-8"))

    # Drop 1 only: drop 2 has not arrived yet.
    shutil.move(data / "drop2", tmp_path / "drop2")
    first = sluiceway("run", "--json", cwd=data)
    assert first.returncode == 0, first.stderr
    orders = manifest.entities["orders"]
    assert query(data, "SELECT count(*), count(*) FILTER (is_current) FROM silver.order_history")[
        0
    ] == (orders.unique_keys, orders.unique_keys)

    # Drop 2 arrives: only its file is read.
    shutil.move(tmp_path / "drop2", data / "drop2")
    second = sluiceway("run", cwd=data)
    assert second.returncode == 0, second.stderr
    assert "1 new file(s) read" in second.stdout
    assert "1 file(s) already loaded skipped" in second.stdout
    late = manifest.drop2.changes["drop2.orders.late_updates"]
    new = manifest.drop2.changes["drop2.orders.new"]
    assert f"{late.count:,} earlier version(s) closed" in second.stdout

    total, current, keys = query(
        data,
        "SELECT count(*), count(*) FILTER (is_current), count(DISTINCT order_id) "
        "FROM silver.order_history",
    )[0]
    assert (total, current, keys) == (
        orders.unique_keys + late.count + new.count,
        orders.unique_keys + new.count,
        orders.unique_keys + new.count,
    )

    # Each late update: the delivered version closed at the refund's time, the refund current.
    refunds = pacsv.read_csv(data / "drop2" / "orders.csv.gz").to_pylist()
    refunded_at = {r["order_id"]: r["updated_at"] for r in refunds if r["order_id"] in late.keys}
    assert len(refunded_at) == late.count
    history = query(
        data,
        "SELECT order_id, status, valid_from, valid_to, is_current FROM silver.order_history "
        f"WHERE order_id IN ({', '.join(map(str, late.keys))}) ORDER BY order_id, valid_from",
    )
    assert len(history) == 2 * late.count
    for old, current_row in zip(history[::2], history[1::2], strict=True):
        assert old[0] == current_row[0]
        when: datetime = refunded_at[old[0]]
        assert (old[1], old[3], old[4]) == ("delivered", when, False)
        assert (current_row[1], current_row[2], current_row[3], current_row[4]) == (
            "refunded",
            when,
            None,
            True,
        )
    # One row per (key, valid_from): no version is stored twice.
    versions = "SELECT count(DISTINCT (order_id, valid_from)) FROM silver.order_history"
    assert query(data, versions) == [(total,)]

    # Nothing new: the table stays as it is.
    checksum = "SELECT sum(hash(order_id, status, valid_from, valid_to)) FROM silver.order_history"
    before = query(data, checksum)
    third = sluiceway("run", cwd=data)
    assert third.returncode == 0, third.stderr
    assert "nothing to load" in third.stdout
    assert query(data, checksum) == before

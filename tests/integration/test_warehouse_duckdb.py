"""DuckDB against the warehouse contract, plus what only an embedded file can get wrong."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sluiceway.core.errors import WarehouseError, WarehouseLockedError
from sluiceway.warehouses.base import Warehouse, WarehouseContext
from sluiceway.warehouses.bookkeeping import LATEST_VERSION
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec, DuckDBWarehouse
from tests.contract.warehouse_contract import WarehouseContract
from tests.permissions import unwritable

pytestmark = pytest.mark.integration


def make(path: Path | str, state_dir: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(
        DuckDBSpec(type="duckdb", path=str(path)),
        WarehouseContext(state_dir, lambda p: state_dir / p),
    )


class TestDuckDBContract(WarehouseContract):
    @pytest.fixture
    def warehouse(self, tmp_path: Path) -> Iterator[Warehouse[Any]]:
        warehouse = make(tmp_path / "w.duckdb", tmp_path)
        warehouse.open()
        yield warehouse
        warehouse.close()


def test_bookkeeping_is_created_once_and_versioned(tmp_path: Path) -> None:
    for _ in range(2):
        with make(tmp_path / "w.duckdb", tmp_path) as warehouse:
            warehouse.open()
            versions = warehouse.query(
                "SELECT version FROM _sluiceway.migrations ORDER BY version"
            ).to_pylist()
            assert versions == [{"version": v} for v in range(1, LATEST_VERSION + 1)]


def test_a_newer_bookkeeping_version_is_refused(tmp_path: Path) -> None:
    with make(tmp_path / "w.duckdb", tmp_path) as warehouse:
        warehouse.open()
        warehouse.query("INSERT INTO _sluiceway.migrations VALUES (999, 'from the future', now())")
    with pytest.raises(WarehouseError, match="newer than this Sluiceway knows"):
        make(tmp_path / "w.duckdb", tmp_path).open()


def test_default_path_is_in_the_state_dir(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(
        DuckDBSpec(type="duckdb"), WarehouseContext(tmp_path / "state", lambda p: tmp_path / p)
    )
    warehouse.open()
    warehouse.close()
    assert (tmp_path / "state" / "warehouse.duckdb").is_file()


def test_an_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(WarehouseError, match="cannot create the folder") as caught:
        make(blocker / "w.duckdb", tmp_path).open()
    assert str(blocker / "w.duckdb") in str(caught.value)


def test_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with unwritable(folder), pytest.raises(WarehouseError, match="permission denied") as caught:
        make(folder / "w.duckdb", tmp_path).open()
    assert "w.duckdb" in str(caught.value)
    assert not (folder / "w.duckdb").exists()


def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"some other database" * 1000)
    before = path.read_bytes()
    with pytest.raises(WarehouseError, match="not a DuckDB database"):
        make(path, tmp_path).open()
    assert path.read_bytes() == before


def test_reading_a_warehouse_that_does_not_exist_yet(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse at"):
        make(tmp_path / "missing.duckdb", tmp_path).open(read_only=True)


def _hold_lock(path: str, ready: Any, release: Any) -> None:
    con = duckdb.connect(path)
    ready.set()
    release.wait(30)
    con.close()


def test_a_second_writer_gets_a_locked_error_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    make(path, tmp_path).open()
    spawn = multiprocessing.get_context("spawn")
    ready, release = spawn.Event(), spawn.Event()
    holder = spawn.Process(target=_hold_lock, args=(str(path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(WarehouseLockedError) as caught:
            make(path, tmp_path).open()
        assert f"process {holder.pid}" in str(caught.value)
    finally:
        release.set()
        holder.join(30)

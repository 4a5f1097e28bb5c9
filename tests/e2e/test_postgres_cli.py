"""The CLI against a PostgreSQL warehouse, as a user runs it: load, query (DuckDB-dialect SQL
compiled, or native), explain (estimated and measured, the latter changing nothing), and the
connection never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_process import sluiceway
from tests.integration.conftest import pg_server, pg_url

__all__ = ["pg_server", "pg_url"]  # the throwaway-database fixtures, used here too

pytestmark = pytest.mark.e2e

PASSWORD = "not-shown-3r7"


@pytest.fixture
def project(tmp_path: Path, pg_url: str) -> tuple[Path, dict[str, str]]:
    dsn = pg_url.replace("postgresql+psycopg://postgres@", f"postgresql://postgres:{PASSWORD}@")
    (tmp_path / "orders.csv").write_text(
        "id,status,amount\n1,paid,10.5\n2,paid,3\n3,refunded,7.25\n4,new,1\n"
    )
    (tmp_path / "sluiceway.yaml").write_text(
        "pipeline: shop\n"
        "quality: {profile: false}\n"
        "warehouse: {type: postgres, connection: '${SHOP_WAREHOUSE}'}\n"
        "sources:\n"
        "  orders: {type: csv, path: orders.csv, table: bronze.orders}\n"
    )
    return tmp_path, {"SHOP_WAREHOUSE": dsn}


def test_load_query_and_explain_on_postgres(project: tuple[Path, dict[str, str]]) -> None:
    folder, env = project
    run = sluiceway("run", cwd=folder, env=env)
    assert run.returncode == 0, run.stderr

    # DuckDB's dialect (GROUP BY ALL, count_if) compiled for PostgreSQL.
    query = sluiceway(
        "query",
        "SELECT status, count(*) AS n, count_if(amount > 5) AS big FROM bronze.orders "
        "GROUP BY ALL ORDER BY status",
        "--format",
        "json",
        cwd=folder,
        env=env,
    )
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [
        {"status": "new", "n": 1, "big": 0},
        {"status": "paid", "n": 2, "big": 1},
        {"status": "refunded", "n": 1, "big": 1},
    ]
    native = sluiceway(
        "query", "SELECT 'x'::text || 'y' AS v", "--native", "-f", "json", cwd=folder, env=env
    )
    assert json.loads(native.stdout) == [{"v": "xy"}]

    plan = sluiceway(
        "explain", "SELECT * FROM bronze.orders WHERE id = 2", "-f", "json", cwd=folder, env=env
    )
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)[0]["Plan"]["Relation Name"] == "orders"

    measured = sluiceway("explain", "--analyze", "DELETE FROM bronze.orders", cwd=folder, env=env)
    assert measured.returncode == 0, measured.stderr
    assert "Actual Rows=4" in measured.stdout
    left = sluiceway(
        "query", "SELECT count(*) AS n FROM bronze.orders", "-f", "json", cwd=folder, env=env
    )
    assert json.loads(left.stdout) == [{"n": 4}]  # the measured DELETE was rolled back

    shown = sluiceway("config", "show", cwd=folder, env=env)
    for result in (run, query, native, plan, measured, left, shown):
        assert PASSWORD not in result.stdout + result.stderr


def test_explain_on_duckdb_prints_a_plan_tree(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,v\n1,a\n2,b\n")
    (tmp_path / "sluiceway.yaml").write_text(
        "pipeline: p\nquality: {profile: false}\nsources:\n  t: {type: csv, path: t.csv}\n"
    )
    assert sluiceway("run", cwd=tmp_path).returncode == 0
    tree = sluiceway("explain", "SELECT v FROM t WHERE id = 1", cwd=tmp_path)
    assert tree.returncode == 0, tree.stderr
    assert "SEQ_SCAN" in tree.stdout
    assert "Filters=" in tree.stdout

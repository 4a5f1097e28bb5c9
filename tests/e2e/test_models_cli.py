"""Models and lineage from the command line: `models list`, `show`, and lineage recorded by real
runs: models' columns traced to the loaded files, versions kept,
`sluiceway lineage` upstream, downstream, impact and Mermaid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sluiceway.meta import lineage_store
from sluiceway.meta.store import MetaStore
from tests.conftest import write
from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "orders.csv", "order_id,customer_id,amount\n1,10,5.5\n2,10,3.0\n3,11,7.25\n")
    write(
        tmp_path / "sluiceway.yaml",
        """
        pipeline: shop
        sources:
          orders: {type: csv, path: orders.csv, table: bronze.orders}
        """,
    )
    write(
        tmp_path / "models" / "silver" / "orders.sql",
        """
        /* {materialized: table} */
        SELECT order_id, customer_id, amount * 100 AS cents FROM bronze.orders
        """,
    )
    write(
        tmp_path / "models" / "gold" / "revenue.sql",
        """
        SELECT customer_id, sum(cents) AS revenue, count(*) AS orders
        FROM silver.orders GROUP BY customer_id
        """,
    )
    return tmp_path


def test_lineage_traces_model_columns_back_to_the_loaded_file(project: Path) -> None:
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr

    up = json.loads(sluiceway("lineage", "gold.revenue.revenue", "--json", cwd=project).stdout)
    assert (up["name"], up["kind"]) == ("gold.revenue.revenue", "aggregate")
    cents = up["children"][0]
    assert (cents["name"], cents["kind"]) == ("silver.orders.cents", "derived")
    assert cents["expression"] == "bronze.orders.amount * 100"
    amount = cents["children"][0]
    assert amount["name"] == "bronze.orders.amount"
    assert amount["children"][0]["name"] == "csv:orders.csv"

    impact = json.loads(
        sluiceway("lineage", "impact", "bronze.orders.amount", "--json", cwd=project).stdout
    )
    assert impact["impact"] == ["silver.orders.cents", "gold.revenue.revenue"]
    tree = sluiceway("lineage", "bronze.orders", "--downstream", cwd=project).stdout
    assert "silver.orders" in tree
    assert "gold.revenue" in tree
    mermaid = sluiceway("lineage", "gold.revenue", "-f", "mermaid", cwd=project).stdout
    assert mermaid.startswith("flowchart LR")
    assert "bronze.orders" in mermaid  # the whole chain, not only the focused table


def test_a_model_version_changes_only_with_its_sql(project: Path) -> None:
    assert sluiceway("run", cwd=project).returncode == 0
    assert sluiceway("run", cwd=project).returncode == 0
    with MetaStore.for_state_dir(project / ".sluiceway") as store:
        assert [v.version for v in lineage_store.model_history(store, "gold.revenue")] == [1]
    write(
        project / "models" / "gold" / "revenue.sql",
        "SELECT customer_id, max(cents) AS revenue FROM silver.orders GROUP BY customer_id\n",
    )
    assert sluiceway("run", cwd=project).returncode == 0
    with MetaStore.for_state_dir(project / ".sluiceway") as store:
        assert [v.version for v in lineage_store.model_history(store, "gold.revenue")] == [1, 2]
    impact = json.loads(
        sluiceway("lineage", "impact", "silver.orders.cents", "--json", cwd=project).stdout
    )
    assert impact["impact"] == ["gold.revenue.revenue"]  # the latest version only


def test_an_unknown_reference_is_a_clear_error(project: Path) -> None:
    assert sluiceway("run", cwd=project).returncode == 0
    missing = sluiceway("lineage", "gold.revenu.revenue", cwd=project)
    assert missing.returncode == 1
    assert "gold.revenu" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_models_list_and_show_without_materializing(project: Path) -> None:
    assert sluiceway("run", "--select", "orders", cwd=project).returncode == 0
    listed = json.loads(sluiceway("models", "list", "--json", cwd=project).stdout)
    assert [(m["name"], m["materialized"], m["reads"]) for m in listed] == [
        ("gold.revenue", "view", ["silver.orders"]),
        ("silver.orders", "table", ["bronze.orders"]),
    ]
    shown = sluiceway("show", "silver.orders", "-n", "2", "-f", "json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert [r["cents"] for r in json.loads(shown.stdout)] == [550.0, 300.0]
    tables = sluiceway(
        "query",
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'silver'",
        "-f",
        "json",
        cwd=project,
    )
    assert json.loads(tables.stdout) == [{"n": 0}]  # shown, not built
    missing = sluiceway("show", "silver.nope", cwd=project)
    assert missing.returncode == 1
    assert "no model 'silver.nope'" in missing.stderr


def test_a_model_whose_columns_cannot_be_traced_keeps_its_table_lineage(project: Path) -> None:
    write(
        project / "models" / "silver" / "doubled.sql",
        "/* {materialized: table} */\nSELECT order_id, amount * 2 FROM bronze.orders\n",
    )
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "lineage: silver.doubled: column lineage not traced" in done.stderr
    assert "amount * 2 has no name" in done.stderr
    down = json.loads(
        sluiceway("lineage", "bronze.orders", "--downstream", "--json", cwd=project).stdout
    )
    assert "silver.doubled" in [child["name"] for child in down["children"]]


def test_runs_plan_shows_each_model_steps_stored_plan(project: Path) -> None:
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr
    run_id = json.loads(sluiceway("runs", "--json", cwd=project).stdout)[0]["run_id"]

    shown = sluiceway("runs", "plan", run_id, "--json", cwd=project)

    assert shown.returncode == 0, shown.stderr
    plans = {p["step"]: p for p in json.loads(shown.stdout)}
    assert sorted(plans) == ["gold.revenue", "silver.orders"]  # models only, not the load
    table = plans["silver.orders"]
    assert (table["attempt"], table["dialect"], table["analyzed"]) == (1, "duckdb", False)
    assert '"bronze"."orders"' in table["sql"] or "bronze.orders" in table["sql"]
    assert "SEQ_SCAN" in json.dumps(table["plan"])
    tree = sluiceway("runs", "plan", run_id, "gold.revenue", cwd=project)
    assert tree.returncode == 0, tree.stderr
    assert "gold.revenue · attempt 1 · duckdb (estimated)" in tree.stdout
    assert "silver.orders · attempt" not in tree.stdout


def test_python_and_ops_models_from_the_command_line(project: Path) -> None:
    write(
        project / "models" / "gold" / "big.yaml",
        """
        materialized: table
        source: silver.orders
        ops:
          - {op: filter, where: {column: cents, op: gt, value: 500}}
        """,
    )
    write(
        project / "models" / "gold" / "counts.py",
        """
        from sluiceway import model


        @model("gold.counts", inputs={"big": "gold.big"})
        def counts(big):
            return big.aggregate("count(*) AS orders")
        """,
    )

    listed = json.loads(sluiceway("models", "list", "--json", cwd=project).stdout)
    assert {m["name"]: m["kind"] for m in listed} == {
        "gold.big": "ops",
        "gold.counts": "python",
        "gold.revenue": "sql",
        "silver.orders": "sql",
    }
    done = sluiceway("run", cwd=project)
    assert done.returncode == 0, done.stderr
    shown = sluiceway("show", "gold.counts", "--format", "json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == [{"orders": 2}]
    up = json.loads(sluiceway("lineage", "gold.counts.orders", "--json", cwd=project).stdout)
    assert (up["name"], up["kind"]) == ("gold.counts.orders", "aggregate")
    assert up["children"][0]["name"] == "gold.big"


def test_a_failing_transform_prints_the_model_and_line_and_the_traceback_with_debug(
    project: Path,
) -> None:
    write(
        project / "models" / "gold" / "fails.py",
        """
        from sluiceway import model


        @model("gold.fails", inputs=["silver.orders"], format="arrow")
        def fails(orders):
            return orders.column("nope")
        """,
    )

    done = sluiceway("run", cwd=project)
    debug = sluiceway("--debug", "run", cwd=project)

    assert done.returncode == 1
    where = f"{project / 'models' / 'gold' / 'fails.py'}:6"
    assert f"{where}: model 'gold.fails': fails() raised KeyError" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert 'fails.py", line 6, in fails' in debug.stderr

"""`sluiceway demo` end to end: generate, load the first drop, evolve with the second, build
the silver and gold layers last."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

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


def query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    result = sluiceway("demo", "--no-serve", "--scale", "0.05", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    return root, json.loads(result.stdout)


def test_the_first_drop_loads_every_row_of_every_file(demo: tuple[Path, dict[str, Any]]) -> None:
    root, summary = demo
    first, second, history, gold = summary["runs"]
    assert [r["status"] for r in (first, second, history, gold)] == ["succeeded"] * 4
    assert first["rows_rejected"] == 0
    manifest = Manifest.load(root / ".sluiceway" / "demo" / "manifest.json")
    expected = {t: sum(manifest.files[f].rows for f in files) for t, files in TABLES.items()}
    expected["web_events"] = sum(
        record.rows for name, record in manifest.files.items() if name.startswith("web_events/")
    )
    steps = {s["step"]: s for s in first["steps"]}
    assert {name: steps[name]["rows_inserted"] for name in expected} == expected
    assert query(root, "SELECT count(*) FROM bronze.customers WHERE zip LIKE '0%'")[0][0] > 0
    kinds = dict(
        query(
            root,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'bronze' AND table_name = 'order_items'",
        )
    )
    assert kinds["unit_price"] == "DECIMAL(10,2)"


def test_the_second_drop_evolves_customers_and_merges_updates(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = demo
    second = summary["runs"][1]
    manifest = Manifest.load(root / ".sluiceway" / "demo" / "manifest.json")
    changes = manifest.drop2.changes
    customers = next(s for s in second["steps"] if s["step"] == "customers")
    assert customers["schema_version"] == 2
    assert customers["rows_updated"] == changes["drop2.customers.updates"].count
    assert customers["rows_inserted"] == changes["drop2.customers.new"].count
    orders = next(s for s in second["steps"] if s["step"] == "orders")
    assert orders["rows_updated"] == changes["drop2.orders.late_updates"].count
    assert orders["rows_inserted"] == changes["drop2.orders.new"].count
    columns = dict(
        query(
            root,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'bronze' AND table_name = 'customers'",
        )
    )
    assert columns["phone_number"] == "VARCHAR"
    assert columns["loyalty_tier"] == "VARCHAR"
    assert columns["credit_limit"] == "DOUBLE"
    assert "phone" not in columns
    history = json.loads(
        sluiceway("schema", "history", "bronze.customers", "--json", cwd=root).stdout
    )
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["changes"] == [
        "+ loyalty_tier VARCHAR",
        "~ credit_limit: BIGINT → DOUBLE",
        "→ phone renamed to phone_number",
    ]


def test_the_demo_builds_the_gold_layer_last(demo: tuple[Path, dict[str, Any]]) -> None:
    root, summary = demo
    gold = summary["runs"][-1]
    assert gold["pipeline"] == "ecommerce_demo_gold"
    steps = {s["step"]: s for s in gold["steps"]}
    assert {"silver.customers", "gold.dim_customers", "gold.daily_revenue"} <= set(steps)
    assert {s["status"] for s in steps.values()} == {"succeeded"}
    # Only the gold pipeline builds models: the loading pipelines next to it have none.
    assert [s["step"] for r in summary["runs"][:-1] for s in r["steps"] if "." in s["step"]] == []
    assert query(root, "SELECT sum(revenue) FROM gold.daily_revenue") == query(
        root, "SELECT sum(revenue) FROM gold.fact_orders"
    )
    top = sluiceway("query", "--saved", "top_products", "-f", "json", cwd=root)
    assert top.returncode == 0, top.stderr
    assert len(json.loads(top.stdout)) == 10


def test_the_demo_runs_again_through_the_evolved_schema(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = demo
    again = sluiceway("demo", "--no-serve", "--scale", "0.05", "--json", cwd=root)
    assert again.returncode == 0, again.stderr
    runs = json.loads(again.stdout)["runs"]
    assert [r["status"] for r in runs] == ["succeeded"] * 4
    # The order history finds no new order file: nothing to load.
    assert runs[2]["steps"][0]["notes"][0].startswith("nothing to load")
    # The same bronze again: the customer dimension gains no version.
    dim = next(s for s in runs[3]["steps"] if s["step"] == "gold.dim_customers")
    assert (dim["rows_inserted"], dim["rows_updated"]) == (0, 0)
    # The first drop's `phone` column loads into `phone_number` through the alias.
    assert query(root, "SELECT count(phone_number) FROM bronze.customers")[0][0] > 0
    history = json.loads(
        sluiceway("schema", "history", "bronze.customers", "--json", cwd=root).stdout
    )
    assert len(history) == 2  # the same schema again makes no new version


def _bundled(name: str, data: Path) -> str:
    """A bundled demo pipeline, its relative paths pointed at ``data``."""
    text = resources.files("sluiceway.demo").joinpath("pipelines", name).read_text("utf-8")
    for prefix in (
        "path: drop2/",
        "path: customers",
        "path: products",
        "path: orders",
        "path: order_items",
        "path: payments",
        "path: web_events",
    ):
        text = text.replace(prefix, prefix.replace("path: ", f"path: {data}/"))
    return text


def test_the_second_drop_fails_with_a_clear_diff_under_freeze(
    demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, _ = demo
    data = root / ".sluiceway" / "demo"
    project = tmp_path / "frozen"
    (project / "pipelines").mkdir(parents=True)
    (project / "pipelines" / "drop1.yaml").write_text(_bundled("ecommerce.yaml", data))
    frozen = _bundled("ecommerce_drop2.yaml", data).replace("policy: evolve", "policy: freeze")
    (project / "sluiceway.yaml").write_text(frozen)
    first = sluiceway("run", "pipelines/drop1.yaml", "--select", "customers", cwd=project)
    assert first.returncode == 0, first.stderr
    before = query(project, "SELECT count(*), sum(hash(customer_id)) FROM bronze.customers")
    result = sluiceway("run", "--select", "customers", cwd=project)
    assert result.returncode == 1
    assert "policy: freeze" in result.stderr
    assert "new column loyalty_tier VARCHAR" in result.stderr
    assert "credit_limit: DOUBLE would widen the table's BIGINT" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(project, "SELECT count(*), sum(hash(customer_id)) FROM bronze.customers") == before

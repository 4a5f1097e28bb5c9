"""The demo's checks find every defect the generator injects, each with the manifest's count."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sluiceway.demo.manifest import Manifest
from sluiceway.engine.registry import Registry
from sluiceway.spec.quality import ConsistencyRule, ExpressionRule, ForeignKeyRule
from tests.e2e.cli_process import sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def rule_for(defect_id: str) -> tuple[str, str]:
    """The (step, rule id) that must find a defect: `customers.null_email` is found by the
    rule `customers_null_email` of the step `customers`."""
    return defect_id.split(".", 1)[0], defect_id.replace(".", "_")


@dataclass(frozen=True)
class CheckedDemo:
    manifest: Manifest
    run: dict[str, Any]  # the first drop's run, as `sluiceway demo --json` prints it
    failing: dict[tuple[str, str], int]  # (step, rule id) -> failing count


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> CheckedDemo:
    """`sluiceway demo` at its default scale, and the quality report of the first drop."""
    root = tmp_path_factory.mktemp("demo-quality")
    result = sluiceway("demo", "--no-serve", "--json", cwd=root, timeout=600)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout)["runs"][0]
    report = root / "report.json"
    shown = sluiceway("quality", "report", first["run_id"], "--json", str(report), cwd=root)
    assert shown.returncode == 0, shown.stderr
    tables = json.loads(report.read_text())["tables"]
    return CheckedDemo(
        manifest=Manifest.load(root / ".sluiceway" / "demo" / "manifest.json"),
        run=first,
        failing={(t["step"], r["rule_id"]): r["failing"] for t in tables for r in t["rules"]},
    )


def test_every_defect_is_found_by_its_rule_with_the_exact_count(checked: CheckedDemo) -> None:
    defects = checked.manifest.defects.values()
    assert defects
    expected = {d.id: d.count for d in defects}
    # A defect without its rule shows up as None: a new defect needs a check in ecommerce.yaml.
    found = {d.id: checked.failing.get(rule_for(d.id)) for d in defects}
    assert found == expected


def test_the_other_checks_pass_and_nothing_is_rejected(checked: CheckedDemo) -> None:
    assert checked.run["status"] == "succeeded"
    assert checked.run["rows_rejected"] == 0  # every check warns: bronze keeps every row
    mapped = {rule_for(d) for d in checked.manifest.defects}
    others = {key: n for key, n in checked.failing.items() if key not in mapped}
    assert others
    assert others == dict.fromkeys(others, 0)


def referenced_tables(rule: Any) -> list[str]:
    """Tables a rule reads besides the checked rows."""
    if isinstance(rule, ForeignKeyRule):
        return [rule.ref_table]
    if isinstance(rule, ExpressionRule) and rule.join is not None:
        return [rule.join.table]
    if isinstance(rule, ConsistencyRule):
        return [side.table for side in (rule.left, rule.right) if side.table is not None]
    return []


def test_tables_a_rule_reads_load_before_the_rule_runs(
    checked: CheckedDemo, registry: Registry, tmp_path: Path
) -> None:
    bundled = resources.files("sluiceway.demo").joinpath("pipelines", "ecommerce.yaml")
    with resources.as_file(bundled) as file:
        spec = registry.load(Path(file), base_dir=tmp_path, state_dir=tmp_path).spec
    step_of = {str(spec.settings(name).table).lower(): name for name in spec.sources}
    position = {step["step"]: i for i, step in enumerate(checked.run["steps"])}
    assert set(position) == set(spec.sources)
    needs = {
        (step_of[ref.lower()], name)
        for name in spec.sources
        for rule in spec.settings(name).checks
        for ref in referenced_tables(rule)
    }
    assert ("customers", "orders") in needs  # orders_orphan_customer
    assert ("products", "order_items") in needs  # order_items_orphan_product
    assert ("orders", "payments") in needs  # payments_amount_mismatch
    late = sorted((first, then) for first, then in needs if position[first] > position[then])
    assert late == []

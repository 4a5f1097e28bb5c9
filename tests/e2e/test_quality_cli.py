"""`sluiceway quality TABLE` and `sluiceway quality report RUN_ID` after a run with checks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e


def test_a_run_with_checks_has_a_trend_and_a_report(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("id,amount\n1,5\n2,-1\n3,7\n")
    (tmp_path / "sluiceway.yaml").write_text(
        textwrap.dedent(
            """
            pipeline: q
            sources:
              orders:
                type: csv
                path: orders.csv
                checks:
                  - {rule: range, column: amount, min: 0, on_fail: quarantine}
                  - {rule: unique, columns: [id]}
            """
        )
    )
    ran = sluiceway("run", "--json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert run["steps"][0]["quality"]["quarantined"] == 1
    assert run["steps"][0]["rows_rejected"] == 1

    trend = sluiceway("quality", "orders", "--json", cwd=tmp_path)
    assert trend.returncode == 0, trend.stderr
    (load,) = json.loads(trend.stdout)
    assert load["failed"] == ["amount_range"]
    assert 0 < load["score"] < 100

    html = tmp_path / "report.html"
    report = sluiceway(
        "quality", "report", run["run_id"], "--html", str(html), "--json", "r.json", cwd=tmp_path
    )
    assert report.returncode == 0, report.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    (table,) = document["tables"]
    assert {r["rule_id"]: r["failing"] for r in table["rules"]} == {
        "amount_range": 1,
        "id_unique": 0,
    }
    page = html.read_text()
    assert "amount_range" in page
    assert "<svg" in page
    assert "http://" not in page

    missing = sluiceway("quality", "nope", cwd=tmp_path)
    assert missing.returncode == 1
    assert "no quality history for table 'nope'" in missing.stderr

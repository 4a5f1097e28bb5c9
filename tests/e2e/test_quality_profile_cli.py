"""`sluiceway profile TABLE` and `sluiceway quality suggest TABLE` on a loaded table."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluiceway.cli.context import CliState
from sluiceway.quality.check import check_table, parse_rules
from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e

# amount: one NULL, four distinct values (7 twice); status: two values, three rows each;
# city: one NULL, three distinct values; email: six addresses.
ORDERS = """\
id,amount,status,email,city
1,5,paid,a@x.com,NY
2,,paid,b@y.org,LA
3,7,open,c@z.net,NY
4,7,open,d@x.com,
5,12.5,paid,e@x.com,SF
6,3,open,f@y.org,NY
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profile")
    (root / "orders.csv").write_text(ORDERS)
    (root / "sluiceway.yaml").write_text(
        textwrap.dedent(
            """
            pipeline: q
            sources:
              orders:
                type: csv
                path: orders.csv
            """
        )
    )
    ran = sluiceway("run", cwd=root)
    assert ran.returncode == 0, ran.stderr
    return root


def _row(text: str, column: str) -> list[str]:
    """The cells of ``column``'s row in the summary table."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] == column:
            return cells
    raise AssertionError(f"no row for {column} in:\n{text}")


def test_profile_prints_a_summary_and_the_values_of_each_column(project: Path) -> None:
    html = project / "profile.html"
    shown = sluiceway("profile", "orders", "--html", str(html), cwd=project)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "profile of orders · 6 rows · " in out
    # column, type, nulls, null %, distinct, min, max, mean, stddev, p25, p50, p75
    amount = _row(out, "amount")
    assert amount[1:8] == ["DOUBLE", "1", "16.7%", "4", "3", "12.5", "6.9"]
    assert _row(out, "status")[1:7] == ["VARCHAR", "0", "0.0%", "2", "open", "paid"]
    assert _row(out, "city")[2:5] == ["1", "16.7%", "3"]
    assert "NY  3 (50.0%)" in out  # city's top value, in the detail table
    assert "a@a.a+  6 (100.0%)" in out  # every e-mail address has one shape
    page = html.read_text()
    assert "<svg" in page
    assert "amount" in page
    assert "http://" not in page


def test_profile_as_json_with_chosen_columns_top_values_and_bins(project: Path) -> None:
    shown = sluiceway(
        "profile",
        "orders",
        "--json",
        "--columns",
        "amount, status",
        "--top",
        "1",
        "--bins",
        "4",
        cwd=project,
    )
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)
    assert profile["table"] == "orders"
    assert profile["rows"] == 6
    amount, status = profile["columns"]
    assert (amount["name"], status["name"]) == ("amount", "status")
    assert (amount["count"], amount["nulls"], amount["distinct"]) == (5, 1, 4)
    assert (amount["min"], amount["max"]) == (3.0, 12.5)
    assert amount["mean"] == pytest.approx(6.9)
    assert amount["quantiles"]["p50"] == pytest.approx(7.0)
    assert [b["count"] for b in amount["histogram"]] == [2, 2, 0, 1]  # 3, 5 | 7, 7 | - | 12.5
    assert amount["top_values"] == [{"value": "7.0", "count": 2, "share": pytest.approx(1 / 3)}]
    assert (status["nulls"], status["distinct"]) == (0, 2)
    # A tie of three rows each: the smaller value first.
    assert status["top_values"] == [{"value": "open", "count": 3, "share": 0.5}]


def test_profile_of_an_unknown_table_or_column_is_a_clear_error(project: Path) -> None:
    missing = sluiceway("profile", "nope", cwd=project)
    assert missing.returncode == 1
    assert "there is no table 'nope'" in missing.stderr
    assert "Tables there: orders." in missing.stderr
    assert "Traceback" not in missing.stderr

    column = sluiceway("profile", "orders", "--columns", "amount,zz", cwd=project)
    assert column.returncode == 1
    assert "no column 'zz'" in column.stderr

    suggest = sluiceway("quality", "suggest", "nope", cwd=project)
    assert suggest.returncode == 1
    assert "there is no table 'nope'" in suggest.stderr


def test_suggested_rules_parse_validate_and_pass_on_the_profiled_table(project: Path) -> None:
    shown = sluiceway("quality", "suggest", "orders", cwd=project)
    assert shown.returncode == 0, shown.stderr
    rules: list[dict[str, Any]] = yaml.safe_load(shown.stdout)
    assert rules
    parse_rules(rules)
    assert {"rule": "unique", "columns": ["id"], "on_fail": "warn"} in rules
    assert {
        "rule": "accepted_values",
        "column": "status",
        "values": ["open", "paid"],
        "on_fail": "warn",
    } in rules
    assert {"rule": "format", "column": "email", "format": "email", "on_fail": "warn"} in rules
    assert {"rule": "range", "column": "amount", "min": 3, "max": 13, "on_fail": "warn"} in rules
    kinds = {(r["rule"], r.get("column")) for r in rules}
    assert ("completeness", "amount") in kinds
    assert ("not_null", "amount") not in kinds
    # Lineage columns change with every load; nothing is suggested for them.
    assert not [r for r in rules if str(r.get("column", "")).startswith("_sluiceway")]

    warehouse = CliState(cwd=project).warehouse(None)
    warehouse.open(read_only=True)
    with warehouse:
        checked = check_table(warehouse.sql_runner(), "orders", rules)
    assert len(checked.results) == len(rules)
    assert [r.rule_id for r in checked.results if not r.passed] == []

    # The text pasted as it is under a source's `checks:` makes a valid pipeline.
    pasted = textwrap.indent(shown.stdout, " " * 6)
    (project / "checked.yaml").write_text(
        "pipeline: checked\nsources:\n  orders:\n    type: csv\n    path: orders.csv\n"
        f"    checks:\n{pasted}"
    )
    valid = sluiceway("validate", "checked.yaml", cwd=project)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_quality_table_still_shows_the_trend(project: Path) -> None:
    trend = sluiceway("quality", "orders", cwd=project)
    # Every load is profiled, so the table has a history: the trend, not suggested YAML.
    assert trend.returncode == 0, trend.stderr
    assert "score" in trend.stdout
    assert "{rule:" not in trend.stdout
    missing = sluiceway("quality", "nothing_here", cwd=project)
    assert missing.returncode == 1
    assert "no quality history for table 'nothing_here'" in missing.stderr

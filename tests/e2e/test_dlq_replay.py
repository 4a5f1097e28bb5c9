"""`sluiceway dlq replay|purge`: fix a rule or an override, replay, and nothing loads twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    write: merge
    primary_key: [id]
    on_bad_rows: dlq
    columns: {{id: INTEGER, amount: DOUBLE}}
    schema:
      columns: {{placed: {{type: DATE, format: "{date_format}"}}}}
    checks:
      - {{rule: format, column: email, format: email, on_fail: {email_action}}}
      - {{rule: range, column: amount, min: 0, on_fail: quarantine}}
"""
ORDERS = (
    "id,email,amount,placed\n"
    "1,ann@example.com,5.0,2024-03-01\n"
    "2,bob(at)example.com,7.0,2024-03-02\n"  # bad email: quarantined
    "3,carl@example.com,-1.0,2024-03-03\n"  # negative amount: quarantined
    "4,dan@example.com,2.0,03/04/2024\n"  # date in another format: type_mismatch
    "5,eve@example.com,3.0,2024-03-05\n"
)


def write_pipeline(root: Path, *, email_action: str, date_format: str) -> None:
    text = PIPELINE.format(email_action=email_action, date_format=date_format)
    (root / "sluiceway.yaml").write_text(text)


def ids(root: Path) -> list[int]:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT id FROM orders ORDER BY id").fetchall()]


def dlq(root: Path, *args: str) -> list[dict[str, object]]:
    done = sluiceway("dlq", "list", "--json", *args, cwd=root)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def replay(root: Path, *args: str) -> dict[str, Any]:
    done = sluiceway("dlq", "replay", "--json", *args, cwd=root)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    write_pipeline(tmp_path, email_action="quarantine", date_format="%Y-%m-%d")
    (tmp_path / "orders.csv").write_text(ORDERS)
    first = sluiceway("run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    return tmp_path


def test_replay_loads_what_now_passes_and_keeps_the_rest(shop: Path) -> None:
    assert ids(shop) == [1, 5]
    waiting = dlq(shop)
    assert sorted((r["error_class"], r["rule"]) for r in waiting) == [
        ("rule", "amount_range"),
        ("rule", "email_format"),
        ("type_mismatch", None),
    ]
    assert [r["rule"] for r in dlq(shop, "--rule", "email_format")] == ["email_format"]

    # The user decides the email rule should only warn, and adds the other date format.
    write_pipeline(shop, email_action="warn", date_format="%m/%d/%Y")
    dry = replay(shop, "--rule", "email_format", "--dry-run")
    assert dry["plan"] == {"rows": 1, "sources": {"orders": 1}, "skipped": {}}
    assert ids(shop) == [1, 5]  # a dry run changes nothing

    done = replay(shop, "--rule", "email_format")
    assert [r["status"] for r in done["runs"]] == ["succeeded"]
    assert ids(shop) == [1, 2, 5]
    assert len(dlq(shop)) == 2  # the replayed row left the open queue
    replayed = [r for r in dlq(shop, "--all") if r["status"] == "replayed"]
    assert [(r["rule"], r["attempts"]) for r in replayed] == [("email_format", 1)]

    # Replay everything: the date now parses; the negative amount still fails.
    everything = replay(shop)
    assert everything["plan"]["rows"] == 2
    assert ids(shop) == [1, 2, 4, 5]
    (still,) = dlq(shop)
    assert still["rule"] == "amount_range"
    assert still["id"] != next(r["id"] for r in waiting if r["rule"] == "amount_range")

    # Replaying again loads nothing twice: the table is the same, one row still waits.
    again = replay(shop)
    assert again["plan"]["rows"] == 1
    assert ids(shop) == [1, 2, 4, 5]
    assert [r["rule"] for r in dlq(shop)] == ["amount_range"]


def test_purge_needs_a_filter_and_deletes_what_it_names(shop: Path) -> None:
    refused = sluiceway("dlq", "purge", cwd=shop)
    assert refused.returncode != 0
    assert "would delete every row" in refused.stderr
    assert len(dlq(shop)) == 3

    done = sluiceway("dlq", "purge", "--class", "type_mismatch", "--json", cwd=shop)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"deleted": 1}
    assert sorted(str(r["rule"]) for r in dlq(shop, "--all")) == ["amount_range", "email_format"]

    write_pipeline(shop, email_action="warn", date_format="%Y-%m-%d")
    replay(shop, "--rule", "email_format")
    purged = sluiceway("dlq", "purge", "--replayed", "--json", cwd=shop)
    assert json.loads(purged.stdout) == {"deleted": 1}
    assert [r["rule"] for r in dlq(shop, "--all")] == ["amount_range"]
    assert [r["rule"] for r in dlq(shop, "--source", "orders")] == ["amount_range"]
    assert dlq(shop, "--source", "nope") == []

    everything = sluiceway("dlq", "purge", "--all", "--json", cwd=shop)
    assert json.loads(everything.stdout) == {"deleted": 1}
    assert dlq(shop, "--all") == []


def test_a_replay_that_fails_changes_nothing(shop: Path) -> None:
    # The range rule now fails the whole load: the replay rolls back, the rows stay open.
    text = PIPELINE.format(email_action="warn", date_format="%m/%d/%Y").replace(
        "min: 0, on_fail: quarantine", "min: 0, on_fail: fail"
    )
    (shop / "sluiceway.yaml").write_text(text)
    done = sluiceway("dlq", "replay", cwd=shop)
    assert done.returncode == 1
    assert "amount_range" in done.stderr
    assert ids(shop) == [1, 5]
    assert len(dlq(shop)) == 3
    assert all(r["status"] == "open" for r in dlq(shop, "--all"))

"""The command line as a user drives it: init → validate → run → runs → query, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by `sluiceway init` and run once."""
    root = tmp_path_factory.mktemp("cli") / "shop"
    made = sluiceway("init", str(root), cwd=root.parent)
    assert made.returncode == 0, made.stderr
    ran = sluiceway("run", cwd=root)
    assert ran.returncode == 0, ran.stderr
    return root


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = sluiceway("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "validate", "run", "runs", "query", "demo"):
        assert command in result.stdout


def test_init_scaffolds_a_project(initialised: Path) -> None:
    for item in ("sluiceway.yaml", "data/example.csv", ".gitignore"):
        assert (initialised / item).is_file()
    assert (initialised / "models").is_dir()
    again = sluiceway("init", str(initialised), cwd=initialised)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "--force" in again.stderr


def test_validate_a_good_pipeline(initialised: Path) -> None:
    result = sluiceway("validate", cwd=initialised)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
    assert "raw.example" in result.stdout


def test_run_prints_a_summary_and_json(initialised: Path) -> None:
    result = sluiceway("run", "--json", cwd=initialised)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded"
    (step,) = summary["steps"]
    # The project merges; the run before this one loaded the same rows, so none is rewritten.
    assert (step["table"], step["rows_read"], step["rows_updated"]) == ("raw.example", 3, 0)
    assert step["rows_unchanged"] == 3
    table = sluiceway("run", cwd=initialised)
    assert "succeeded" in table.stdout
    assert "rows/s" in table.stdout


def test_runs_list_and_show(initialised: Path) -> None:
    listed = json.loads(sluiceway("runs", "--json", cwd=initialised).stdout)
    assert len(listed) >= 1
    assert {r["status"] for r in listed} == {"succeeded"}
    run_id = listed[0]["run_id"]
    shown = sluiceway("runs", "show", run_id[:10], "--json", cwd=initialised)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["run_id"] == run_id
    assert [s["step"] for s in detail["steps"]] == ["example"]
    assert sluiceway("runs", cwd=initialised).stdout.count("succeeded") >= 1
    missing = sluiceway("runs", "show", "ZZZZZZZZ", cwd=initialised)
    assert missing.returncode == 1
    assert "sluiceway runs" in missing.stderr


def test_query_in_three_formats(initialised: Path) -> None:
    sql = "SELECT id, name FROM raw.example ORDER BY id"
    as_json = sluiceway("query", sql, "--format", "json", cwd=initialised)
    assert json.loads(as_json.stdout) == [
        {"id": 1, "name": "Ada"},
        {"id": 2, "name": "Grace"},
        {"id": 3, "name": "Linus"},
    ]
    as_csv = sluiceway("query", sql, "-f", "csv", cwd=initialised)
    assert as_csv.stdout.splitlines() == ['"id","name"', '1,"Ada"', '2,"Grace"', '3,"Linus"']
    as_table = sluiceway("query", sql, cwd=initialised)
    assert "Grace" in as_table.stdout
    assert "3 row(s)" in as_table.stdout


def test_query_is_read_only_unless_asked(initialised: Path) -> None:
    refused = sluiceway("query", "CREATE TABLE t AS SELECT 1 AS x", cwd=initialised)
    assert refused.returncode == 1
    assert "read-only" in refused.stderr.lower()
    allowed = sluiceway("query", "CREATE TABLE t2 AS SELECT 1 AS x", "--write", cwd=initialised)
    assert allowed.returncode == 0, allowed.stderr


def test_a_bad_query_is_one_clear_line(initialised: Path) -> None:
    result = sluiceway("query", "SELEC 1", cwd=initialised)
    assert result.returncode == 1
    assert "query failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_reports_every_problem_with_positions(tmp_path: Path) -> None:
    (tmp_path / "sluiceway.yaml").write_text(
        "pipeline: broken\n"
        "sources:\n"
        "  orders:\n"
        "    type: csv\n"
        "    path: data.csv\n"
        "    delimter: ';'\n"
        "  events:\n"
        "    type: kafka-ish\n"
    )
    result = sluiceway("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "sluiceway.yaml:6:5: sources.orders.delimter: unknown key 'delimter' "
        "(did you mean 'delimiter'?)"
    ) in result.stderr
    assert "sluiceway.yaml:8:11" in result.stderr
    assert "unknown type 'kafka-ish'; allowed types: csv, excel, json, mysql, ndjson" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_missing_file_fails_the_run_with_exit_code_one(tmp_path: Path) -> None:
    (tmp_path / "sluiceway.yaml").write_text(
        "pipeline: missing\nsources:\n  orders: {type: csv, path: nowhere/*.csv}\n"
    )
    result = sluiceway("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "No file matches nowhere/*.csv" in result.stderr
    assert "Traceback" not in result.stderr
    debug = sluiceway("--debug", "run", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_json_event_logs_go_to_stderr(initialised: Path) -> None:
    result = sluiceway("--log-format", "json", "run", "--json", cwd=initialised)
    assert result.returncode == 0
    events = [json.loads(line) for line in result.stderr.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run_started"
    assert names[-1] == "run_finished"
    assert "batch_staged" in names
    assert all(e["pipeline"] == "shop" for e in events)
    assert json.loads(result.stdout)["status"] == "succeeded"


def test_no_project_here_gives_a_hint(tmp_path: Path) -> None:
    result = sluiceway("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "sluiceway init" in result.stderr


def test_usage_errors_exit_with_two_and_show_usage(tmp_path: Path) -> None:
    for args in (("run", "--no-such-option"), ("no-such-command",)):
        result = sluiceway(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert "Usage: sluiceway" in result.stderr
        assert "Traceback" not in result.stderr

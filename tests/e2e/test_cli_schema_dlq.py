"""`sluiceway schema …` and `sluiceway dlq …` as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two loads: the second evolves the table and sends rows to the dead-letter queue."""
    root = tmp_path_factory.mktemp("schema")
    (root / "sluiceway.yaml").write_text(
        "pipeline: shop\n"
        "sources:\n"
        "  customers:\n"
        "    type: csv\n"
        "    path: data.csv\n"
        "    table: bronze.customers\n"
        "    on_bad_rows: dlq\n"
        "    schema:\n"
        "      renames: {phone: phone_number}\n"
        "      columns: {active: {type: BOOLEAN, true_values: [Y], false_values: [N]}}\n"
    )
    (root / "data.csv").write_text("id,phone,active\n1,555-0101,Y\n2,555-0102,N\n")
    assert sluiceway("run", cwd=root).returncode == 0
    (root / "data.csv").write_text(
        "id,phone_number,active,tier\n3,555-0103,Y,gold\n4,555-0104,maybe,silver\n5,x,Y\n"
    )
    second = sluiceway("run", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "schema version 2" in second.stdout
    assert "tier: new column, added as VARCHAR" in second.stdout
    return root


def test_schema_list_show_history_and_diff(project: Path) -> None:
    listed = json.loads(sluiceway("schema", "list", "--json", cwd=project).stdout)
    assert [(t["table"], t["version"]) for t in listed] == [("bronze.customers", 2)]

    shown = json.loads(
        sluiceway("schema", "show", "bronze.customers", "--json", cwd=project).stdout
    )
    assert shown["version"] == 2
    user_columns = [c["name"] for c in shown["columns"] if not c["name"].startswith("_sluiceway")]
    assert user_columns == ["id", "phone_number", "active", "tier"]
    assert shown["aliases"] == {"phone": "phone_number"}
    first = json.loads(
        sluiceway("schema", "show", "bronze.customers", "-v", "1", "--json", cwd=project).stdout
    )
    assert "tier" not in [c["name"] for c in first["columns"]]

    table = sluiceway("schema", "history", "bronze.customers", cwd=project)
    assert table.returncode == 0
    assert "+ tier VARCHAR" in table.stdout

    changes = json.loads(
        sluiceway("schema", "diff", "bronze.customers", "1", "2", "--json", cwd=project).stdout
    )
    assert [c["name"] for c in changes["added"]] == ["tier"]

    missing = sluiceway("schema", "show", "bronze.nothing", cwd=project)
    assert missing.returncode == 1
    assert "bronze.customers" in missing.stderr  # the hint lists the known tables


def test_schema_export_as_json_schema_and_avro(project: Path) -> None:
    as_json_schema = json.loads(
        sluiceway("schema", "export", "bronze.customers", cwd=project).stdout
    )
    assert as_json_schema["type"] == "object"
    assert "tier" in as_json_schema["properties"]
    avro = json.loads(
        sluiceway("schema", "export", "bronze.customers", "-f", "avro", cwd=project).stdout
    )
    assert avro["type"] == "record"
    phone = next(f for f in avro["fields"] if f["name"] == "phone_number")
    assert phone.get("aliases") == ["phone"]


def test_dlq_list_show_and_count(project: Path) -> None:
    rows = json.loads(sluiceway("dlq", "list", "--json", cwd=project).stdout)
    # Row 4 holds a value the contract cannot read; line 5 is one field short.
    assert sorted((r["error_class"], r["column_name"]) for r in rows) == [
        ("malformed", "tier"),
        ("type_mismatch", "active"),
    ]
    mismatch = next(r for r in rows if r["error_class"] == "type_mismatch")
    detail = json.loads(sluiceway("dlq", "show", mismatch["id"], "--json", cwd=project).stdout)
    assert detail["raw"]["active"] == "maybe"
    assert detail["raw"]["id"] == 4
    counts = json.loads(
        sluiceway("dlq", "count", "--by", "error_class", "--json", cwd=project).stdout
    )
    assert sorted(counts, key=lambda c: c["key"]) == [
        {"key": "malformed", "rows": 1},
        {"key": "type_mismatch", "rows": 1},
    ]
    shown = sluiceway("dlq", "list", cwd=project)
    assert "cannot be converted to BOOLEAN" in shown.stdout
    bad = sluiceway("dlq", "show", "nonsense", cwd=project)
    assert bad.returncode == 1
    assert "LOAD_ID:SEQ" in bad.stderr

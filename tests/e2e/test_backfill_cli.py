"""`sluiceway state gaps` and `sluiceway backfill`: a day whose file came late is seen as a gap,
filled by a backfill that leaves the live cursor alone, and filling it twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e

PIPELINE = """\
pipeline: shop
quality: {{profile: false}}
sources:
  sales:
    type: csv
    path: sales/*.csv
    write: {write}
    primary_key: [id]
    columns: {{sold_at: TIMESTAMP}}
    incremental: {{cursor: sold_at}}
"""


def day_file(root: Path, day: int, ids: range) -> None:
    lines = [f"{i},2024-03-0{day} {8 + i % 10:02d}:00:00,{i * 2}" for i in ids]
    (root / "sales").mkdir(exist_ok=True)
    (root / "sales" / f"day{day}.csv").write_text("id,sold_at,amount\n" + "\n".join(lines) + "\n")


def shop(root: Path, write: str) -> Path:
    (root / "sluiceway.yaml").write_text(PIPELINE.format(write=write))
    day_file(root, 1, range(0, 10))
    day_file(root, 2, range(10, 20))
    day_file(root, 4, range(40, 50))  # day 3's file is late
    return root


def table(root: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def gaps(root: Path) -> list[dict[str, object]]:
    done = sluiceway("state", "gaps", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, object]] = json.loads(done.stdout)
    return found


def cursor(root: Path) -> object:
    rows = table(root, "SELECT value FROM _sluiceway.state WHERE name = 'cursor'")
    return json.loads(str(rows[0][0]))["value"]


CHECKSUM = "SELECT count(*), sum(hash(id, sold_at, amount)) FROM sales"


@pytest.mark.parametrize("write", ["append", "merge"])
def test_a_late_day_is_a_gap_until_a_backfill_fills_it_once(tmp_path: Path, write: str) -> None:
    root = shop(tmp_path, write)
    assert sluiceway("run", cwd=root).returncode == 0
    assert gaps(root) == [
        {
            "source": "sales",
            "from": "2024-03-03",
            "to": "2024-03-04",
            "periods": 1,
            "unit": "day",
            "backfill": "sluiceway backfill shop --source sales --from 2024-03-03 --to 2024-03-04",
        }
    ]
    shown = sluiceway("state", "gaps", cwd=root)
    assert "2024-03-03" in shown.stdout
    assert "sluiceway backfill shop" in shown.stdout

    # The file arrives; a live run skips it (its rows are behind the cursor).
    day_file(root, 3, range(30, 40))
    live = cursor(root)
    assert sluiceway("run", cwd=root).returncode == 0
    assert table(root, "SELECT count(*) FROM sales") == [(30,)]

    filled = sluiceway(
        "backfill", "--source", "sales", "--from", "2024-03-03", "--to", "2024-03-04", cwd=root
    )
    assert filled.returncode == 0, filled.stderr
    assert "the live cursor did not move" in filled.stdout + filled.stderr
    assert table(root, "SELECT count(*) FROM sales WHERE sold_at::DATE = DATE '2024-03-03'") == [
        (10,)
    ]
    assert cursor(root) == live
    assert gaps(root) == []

    # Backfilling the same window (or a wider one) again changes nothing.
    before = table(root, CHECKSUM)
    again = sluiceway(
        "backfill", "--source", "sales", "--from", "2024-03-01", "--to", "2024-03-05", cwd=root
    )
    assert again.returncode == 0, again.stderr
    assert table(root, CHECKSUM) == before
    assert before[0][0] == 40
    assert cursor(root) == live


def test_backfill_needs_a_cursor_and_an_ordered_window(tmp_path: Path) -> None:
    root = shop(tmp_path, "append")
    backwards = sluiceway(
        "backfill", "--source", "sales", "--from", "2024-03-04", "--to", "2024-03-01", cwd=root
    )
    assert backwards.returncode == 1
    assert "is not before --to" in backwards.stderr
    assert table(
        root, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sales'"
    ) == [(0,)]

    (root / "sluiceway.yaml").write_text(
        PIPELINE.format(write="append").replace("    incremental: {cursor: sold_at}\n", "")
    )
    no_cursor = sluiceway(
        "backfill", "--source", "sales", "--from", "2024-03-01", "--to", "2024-03-02", cwd=root
    )
    assert no_cursor.returncode == 1
    assert "no incremental cursor to backfill by" in no_cursor.stderr

    unknown = sluiceway(
        "backfill", "--source", "nope", "--from", "2024-03-01", "--to", "2024-03-02", cwd=root
    )
    assert unknown.returncode == 1
    assert "no source named 'nope'" in unknown.stderr

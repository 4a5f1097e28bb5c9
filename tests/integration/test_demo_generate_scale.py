"""The demo generator at real sizes: scale 1 counts, flat memory, an unwritable folder.

Memory is measured in a separate driver process that runs each generation as its own child and
reads ``RUSAGE_CHILDREN`` after each: that value is the peak over the children so far, so the
growth from the small run to the large run is the large run's extra memory, whatever other
subprocesses the test session started before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.demo.generate import generate
from tests.permissions import unwritable

pytestmark = pytest.mark.integration

_DRIVER = """
import json, resource, subprocess, sys

GENERATE = "from pathlib import Path; import sys; from sluiceway.demo.generate import generate; "
GENERATE += "generate(Path(sys.argv[1]), scale=float(sys.argv[2]))"
peaks = []
for folder, scale in zip(sys.argv[1::2], sys.argv[2::2]):
    subprocess.run([sys.executable, "-c", GENERATE, folder, scale], check=True)
    peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps(peaks))
"""


def _peaks_mib(runs: list[tuple[Path, float]]) -> list[float]:
    args = [str(part) for folder, scale in runs for part in (folder, scale)]
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, *args], check=True, capture_output=True, text=True
    )
    per_unit = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return [peak / per_unit for peak in json.loads(done.stdout)]


@pytest.mark.slow
def test_peak_memory_stays_flat_from_scale_02_to_2(tmp_path: Path) -> None:
    small, large = _peaks_mib([(tmp_path / "small", 0.2), (tmp_path / "large", 2.0)])
    # 10x the rows (4 order chunks instead of one partial chunk) may not cost 10x the memory.
    assert large - small < 64, f"peak RSS grew from {small:.0f} MiB to {large:.0f} MiB"
    assert large < 1024


@pytest.mark.slow
def test_scale_1_has_the_documented_sizes(tmp_path: Path) -> None:
    manifest = generate(tmp_path, scale=1.0)
    entities = manifest.entities
    customers = entities["customers"]
    assert customers.unique_keys - customers.near_duplicate_rows == 20_000
    assert entities["products"].rows == 2_000
    assert entities["orders"].unique_keys == 100_000
    assert 2.4 < entities["order_items"].rows / 100_000 < 2.6
    assert 0.9 < entities["payments"].rows / 100_000 < 1.1
    assert entities["web_events"].rows == 300_000
    assert len([p for p in manifest.files if p.startswith("web_events/")]) == 6
    expected = {
        "customers.exact_duplicate_rows": 100,
        "customers.near_duplicates": 100,
        "customers.null_email": 60,
        "customers.invalid_email": 100,
        "customers.invalid_phone": 100,
        "customers.noncanonical_state": 400,
        "customers.stray_whitespace_case": 400,
        "customers.future_birth_date": 20,
        "customers.absurd_birth_date": 20,
        "products.negative_price": 10,
        "products.absurd_price": 10,
        "products.null_category": 10,
        "orders.orphan_customer": 500,
        "orders.null_customer_id": 200,
        "orders.exact_duplicate_rows": 300,
        "orders.noncanonical_state": 1000,
    }
    for defect, count in expected.items():
        assert manifest.defects[defect].count == count, defect
    lines = entities["order_items"].rows
    assert manifest.defects["order_items.negative_quantity"].count == round(0.002 * lines)
    assert manifest.defects["order_items.orphan_product"].count == round(0.003 * lines)
    assert manifest.drop2.changes["drop2.orders.late_updates"].count == 1_000
    assert manifest.drop2.changes["drop2.customers.updates"].count == 1_000


def test_unwritable_out_dir_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with unwritable(folder), pytest.raises(ConfigError, match="cannot write") as caught:
        generate(folder, scale=0.01)
    assert caught.value.hint
    assert not list(folder.iterdir())

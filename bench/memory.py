"""Memory benchmark: does peak RSS stay flat when the input grows fourfold?

Three measurements, each at N and 4N rows of the same CSV, each in its own process:

- source:   a CSV source streamed to the end (Arrow batches, nothing kept). Target: peak RSS
            grows by at most 64 MB from N to 4N rows (the file grows by hundreds of MB);
- sluiceway: ``sluiceway run`` into DuckDB with ``memory_limit: 512MB``;
- limit:    raw DuckDB ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` with the same limit.

The last two show how DuckDB itself grows while holding one large transaction (table metadata),
so Sluiceway's own share can be read off against the engine's.

    python bench/memory.py [--rows 2000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from ingest import WORK, make_csv, run_python

SOURCE_ONLY = """
import sys
from pathlib import Path
from sluiceway.core.names import TableRef
from sluiceway.sources.base import ReadContext
from sluiceway.sources.files.csv import CsvSource, CsvSpec
from sluiceway.spec.models import SourceSettings
settings = SourceSettings(name="o", table=TableRef("o"), write="append", primary_key=(),
                          batch_size=65536, lineage=True, on_bad_rows="fail")
ctx = ReadContext(pipeline="p", run_id="r", load_id="l", settings=settings,
                  resolve_path=Path, display_path=lambda p: p.name)
with CsvSource(CsvSpec(type="csv", path=sys.argv[1])).read(ctx) as reader:
    rows = sum(batch.num_rows for batch in reader)
assert rows > 0
"""

LIMIT = """
import sys, duckdb
con = duckdb.connect(sys.argv[2], config={"memory_limit": "512MB"})
con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [sys.argv[1]])
con.close()
"""


def peak_rss_mb(argv: list[str], cwd: Path) -> float:
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    return float(usage.ru_maxrss / 1024)


def measure(kind: str, csv: Path) -> float:
    run_dir = WORK / f"memory-{kind}-{csv.stem}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    try:
        if kind == "sluiceway":
            (run_dir / "sluiceway.yaml").write_text(
                textwrap.dedent(
                    f"""\
                    pipeline: memory
                    warehouse: {{type: duckdb, memory_limit: 512MB}}
                    sources:
                      orders: {{type: csv, path: {csv}}}
                    """
                )
            )
            return peak_rss_mb([sys.executable, "-m", "sluiceway", "run", "--json"], run_dir)
        script = run_dir / "contender.py"
        script.write_text(SOURCE_ONLY if kind == "source" else LIMIT)
        return peak_rss_mb(
            [sys.executable, str(script), str(csv), str(run_dir / "db.duckdb")], run_dir
        )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def make_bigger(small: Path, times: int) -> Path:
    big = small.with_name(f"{small.stem}_x{times}.csv")
    if not big.exists():  # in a child process, like every heavy step (see make_csv)
        union = " UNION ALL ".join([f"SELECT * FROM read_csv('{small}')"] * times)
        run_python(
            f"import duckdb; duckdb.connect().execute(\"COPY ({union}) TO '{big}' (HEADER)\")"
        )
    return big


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    small = WORK / f"orders_{args.rows}.csv"
    make_csv(small, args.rows)
    big = make_bigger(small, 4)
    print(f"memory: {args.rows:,} rows vs {4 * args.rows:,} rows (peak RSS, MB)")
    print(f"{'contender':<10} {'N rows':>8} {'4N rows':>8} {'growth MB':>9}")
    growth: dict[str, float] = {}
    for kind in ("source", "sluiceway", "limit"):
        at_n, at_4n = measure(kind, small), measure(kind, big)
        growth[kind] = at_4n - at_n
        print(f"{kind:<10} {at_n:>8,.0f} {at_4n:>8,.0f} {growth[kind]:>+7,.0f}")
    verdict = "met" if growth["source"] <= 64 else "missed"
    print(
        f"target source_rss_growth_4x_input: {growth['source']:+.0f} MB (goal <= 64 MB) {verdict}"
    )


if __name__ == "__main__":
    main()

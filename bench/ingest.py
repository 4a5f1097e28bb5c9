"""Ingest benchmark: a 2M-row CSV into a DuckDB file, five ways, in one run.

- limit:     raw DuckDB ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` — nothing is faster;
- sluiceway: ``sluiceway run`` (the CLI, start-up included): strict parsing, checks, lineage
             columns, one transaction with the load record, and the load's profile (the
             default); ``sluiceway_unprofiled`` is the same with ``quality: {profile: false}``;
- pandas:    ``pandas.read_csv`` then an insert of the DataFrame into DuckDB;
- dlt:       dlt's DuckDB destination loading the same file parsed by pyarrow.

Every contender runs in its own process (so peak RSS is its own) ``--repeat`` times; the
median wall time counts. Targets: sluiceway >= 0.6x the limit's rows/s, and >= 2x dlt's.

    python bench/ingest.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work" / "ingest"

CONTENDERS = {
    "limit": """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?)", [sys.argv[1]])
con.close()
""",
    "pandas": """
import duckdb, pandas, sys
frame = pandas.read_csv(sys.argv[1])
con = duckdb.connect(sys.argv[2])
con.register("frame", frame)
con.execute("CREATE TABLE orders AS SELECT * FROM frame")
con.close()
""",
    "dlt": """
import os, sys
import dlt
import pyarrow.csv as pc
os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
def batches():
    reader = pc.open_csv(sys.argv[1], read_options=pc.ReadOptions(block_size=1 << 24))
    yield from reader
pipeline = dlt.pipeline(
    pipeline_name="bench",
    destination=dlt.destinations.duckdb(sys.argv[2]),
    dataset_name="bench",
    pipelines_dir=sys.argv[3],
)
pipeline.run(dlt.resource(batches(), name="orders"), write_disposition="append")
""",
}


@dataclass
class Measurement:
    name: str
    seconds: list[float]
    peak_rss_mb: float
    rows: int

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.median_s


def make_csv(path: Path, rows: int) -> None:
    """Write the benchmark CSV, in a child process.

    A forked child's peak RSS starts at its parent's RSS, so the parent must stay small: heavy
    work (DuckDB generating hundreds of MB) never happens in this process.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    run_python(
        f"""
import duckdb
duckdb.connect().execute(
    \"\"\"COPY (SELECT i AS order_id, (i * 7919) % 100000 AS customer_id,
              TIMESTAMP '2024-01-01' + INTERVAL (i % 31536000) SECOND AS order_ts,
              ['pending','paid','shipped','delivered','cancelled'][1 + (i % 5)] AS status,
              round((i % 10000) / 7.0, 2) AS amount, 'USD' AS currency,
              'note ' || (i % 977)::VARCHAR AS note, (i % 3 = 0) AS is_gift,
              ['CA','NY','TX','WA'][1 + (i % 4)] AS state, md5(i::VARCHAR) AS token
         FROM range({rows}) t(i)) TO '{path}' (HEADER)\"\"\"
)
"""
    )


def run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(name: str, csv: Path, repeat: int, rows: int) -> Measurement:
    seconds = []
    peak = 0.0
    for attempt in range(repeat):
        run_dir = WORK / f"{name}-{attempt}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        if name.startswith("sluiceway"):
            # The default pipeline profiles every load; `unprofiled` shows what that costs.
            profile = "false" if name == "sluiceway_unprofiled" else "true"
            (run_dir / "sluiceway.yaml").write_text(
                textwrap.dedent(
                    f"""\
                    pipeline: bench
                    quality: {{profile: {profile}}}
                    sources:
                      orders: {{type: csv, path: {csv}}}
                    """
                )
            )
            argv = [sys.executable, "-m", "sluiceway", "run", "--json"]
        else:
            script = run_dir / "contender.py"
            script.write_text(CONTENDERS[name])
            argv = [sys.executable, str(script), str(csv), str(run_dir / "db.duckdb"), str(run_dir)]
        elapsed, rss = measure_child(argv, run_dir)
        seconds.append(elapsed)
        peak = max(peak, rss)
        shutil.rmtree(run_dir, ignore_errors=True)
    return Measurement(name, seconds, peak, rows)


def measure_child(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and this child's own peak RSS, via /usr/bin/time-like wait4 accounting."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out}\n{err}")
    if argv[-1] == "--json":
        summary = json.loads(out)
        if summary["status"] != "succeeded":
            raise SystemExit(f"sluiceway run did not succeed: {out}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    csv = WORK / f"orders_{args.rows}.csv"
    make_csv(csv, args.rows)
    size_mb = csv.stat().st_size / 1e6
    print(f"ingest: {args.rows:,} rows, {size_mb:,.0f} MB CSV, median of {args.repeat} runs")
    results = {
        name: measure(name, csv, args.repeat, args.rows)
        for name in ("limit", "sluiceway", "sluiceway_unprofiled", "pandas", "dlt")
    }
    limit = results["limit"]
    print(f"{'contender':<21} {'median s':>9} {'rows/s':>12} {'x limit':>8} {'peak RSS MB':>12}")
    for name, m in results.items():
        ratio = m.rows_per_s / limit.rows_per_s
        timing = f"{m.median_s:>9.2f} {m.rows_per_s:>12,.0f} {ratio:>8.2f}"
        print(f"{name:<21} {timing} {m.peak_rss_mb:>12,.0f}")
    ours = results["sluiceway"]
    vs_limit = ours.rows_per_s / limit.rows_per_s
    vs_dlt = ours.rows_per_s / results["dlt"].rows_per_s
    print(
        f"target ingest_vs_duckdb_read_csv: {vs_limit:.2f}x (goal >= 0.60x) "
        f"{'met' if vs_limit >= 0.6 else 'missed'}"
    )
    verdict = "met" if vs_dlt >= 2.0 else "missed"
    print(f"target ingest_vs_dlt: {vs_dlt:.2f}x (goal >= 2.00x) {verdict}")


if __name__ == "__main__":
    main()

"""Incremental benchmark: 1% changed rows merged into a 10M-row table, against a full reload.

The target holds N rows (ids 1..N, loaded once, not timed). A delta file of N/100 rows arrives:
half rewrite existing ids, half are new ids. Contenders, each in its own process:

- limit_full_reload:  raw DuckDB ``CREATE OR REPLACE TABLE … AS SELECT * FROM read_parquet(…)``
                      over the snapshot (the whole table as it is after the delta);
- limit_merge:        raw DuckDB, one transaction: ``DELETE`` the delta's keys, ``INSERT`` it;
- full_reload:        ``sluiceway run``, ``write: replace`` over the snapshot (profiled, the
                      default); ``full_reload_unprofiled`` with ``quality: {profile: false}``;
- incremental:        ``sluiceway run``, ``write: merge`` on ``id``, ``incremental: {files:
                      true}``: only the new file is read; ``incremental_unprofiled`` likewise;
- incremental_cursor: the same merge with ``incremental: {cursor: updated_at}``: every file is
                      read, rows at or behind the cursor are dropped as they stream;
- incremental_noop:   ``files: true`` with nothing new: what any run costs (CLI start-up,
                      opening the warehouse, bookkeeping);
- dlt_merge:          dlt's DuckDB destination, ``write_disposition="merge"`` on ``id``, the
                      delta as Arrow batches (skipped, saying why, if dlt is missing or its
                      untimed load of the N base rows fails or runs past ``--peer-timeout``).

Every contender starts each run from a copy of the same warehouse (and state), so each repeat
sees the same table. Rounds run every contender once each, in turn; the median wall time of
``--repeat`` rounds counts (Sluiceway's start-up included: that is what a scheduled run costs).
Beside it: the child's CPU time (user + system, which hardly moves with other processes' load)
and, for Sluiceway, the run's own ``duration_s`` (start-up and imports left out).
After every run the table is checked: row count, distinct ids, and a checksum of every row and
of the changed rows must equal the snapshot's and the delta's; a mismatch fails the benchmark.
Target: the incremental run takes <= 5% of the full reload.

    python bench/incremental.py [--rows 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from incremental_data import WORK, Dataset, dataset

HERE = Path(__file__).resolve().parent
GOAL = 0.05  # the incremental run's share of the full reload's time
SLUICEWAY_RUN = [sys.executable, "-m", "sluiceway", "run", "--json"]

# Raw DuckDB: what nothing can beat. argv: database, then the Parquet files to read.
LIMITS = {
    "limit_full_reload": """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("CREATE OR REPLACE TABLE orders AS SELECT * FROM read_parquet(?)", [sys.argv[2:]])
con.close()
""",
    "limit_merge": """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("BEGIN TRANSACTION")
con.execute("DELETE FROM orders WHERE id IN (SELECT id FROM read_parquet(?))", [sys.argv[2]])
con.execute("INSERT INTO orders SELECT * FROM read_parquet(?)", [sys.argv[2]])
con.execute("COMMIT")
con.close()
""",
}

# dlt: argv: write disposition, database, pipelines dir, then the Parquet files to load.
DLT = """
import os, sys
os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
import dlt
import pyarrow.parquet as pq
disposition, database, pipelines_dir, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def batches():
    for path in files:
        yield from pq.ParquetFile(path).iter_batches(batch_size=1 << 17)
pipeline = dlt.pipeline(
    pipeline_name="bench",
    destination=dlt.destinations.duckdb(database),
    dataset_name="bench",
    pipelines_dir=pipelines_dir,
)
orders = dlt.resource(batches(), name="orders", primary_key="id", write_disposition=disposition)
pipeline.run(orders)
"""


Figures = dict[str, int]  # rows, ids, checksum, changed: see incremental_data.figures


@dataclass
class Contender:
    """One way of getting the delta into the table, and what the table must hold after it."""

    name: str
    kind: str  # "reload" or "merge": which limit it is measured against
    how: str
    rows: int  # rows it writes (0: a run with nothing to do)
    argv: list[str]
    cwd: Path
    reset: Callable[[], None]  # untimed: back to the starting state
    database: Path  # where the table is after a run
    table: str
    expected: Figures
    step: dict[str, int] | None = None  # a Sluiceway run's step counts that must come out


@dataclass
class Measurement:
    contender: Contender
    seconds: list[float] = field(default_factory=list)
    in_run: list[float] = field(default_factory=list)  # a Sluiceway run's own duration_s
    cpu_seconds: list[float] = field(default_factory=list)  # the child's user + system time
    peak_rss_mb: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        """CPU seconds of the child: unlike wall time, it hardly moves with the machine's load."""
        return statistics.median(self.cpu_seconds)

    @property
    def median_in_run_s(self) -> float | None:
        return statistics.median(self.in_run) if self.in_run else None


# -- children -------------------------------------------------------------------------------


def python(code: str, *args: str) -> str:
    """Run ``code`` in a child: all DuckDB work happens in children, so this process stays
    small (a child's peak RSS starts at its parent's RSS)."""
    argv = [sys.executable, "-c", code, *args]
    done = subprocess.run(argv, cwd=HERE, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        first = code.strip().splitlines()[0]
        raise SystemExit(f"{first} … failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def ensure_data(rows: int) -> Dataset:
    python("import sys, incremental_data as d; d.ensure_dataset(int(sys.argv[1]))", str(rows))
    return dataset(rows)


@dataclass(frozen=True)
class ChildRun:
    seconds: float  # wall
    cpu_seconds: float  # user + system, every thread
    peak_rss_mb: float
    stdout: str


def measure_child(argv: list[str], cwd: Path, timeout: float | None = None) -> ChildRun:
    """Wall and CPU seconds, peak RSS (the child's own, by wait4 accounting) and stdout.

    Output goes to files, not pipes: a child blocked on a full pipe would never exit. With a
    ``timeout`` (only the peer's untimed set-up has one) the child is polled, and killed when
    it runs past it (``TimeoutError``).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise TimeoutError(f"{' '.join(argv)} ran past {timeout:.0f} s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{text}\n{err.read().decode()}")
    return ChildRun(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def figures(relation: str, data: Dataset, database: Path | None = None) -> Figures:
    """Counts and checksums of a table or of Parquet files (``incremental_data.figures``)."""
    code = (
        "import json, sys, pathlib, incremental_data as d\n"
        "db = sys.argv[3] or None\n"
        "print(json.dumps(d.figures(sys.argv[1], pathlib.Path(sys.argv[2]), database=db)))"
    )
    result: Figures = json.loads(python(code, relation, str(data.delta), str(database or "")))
    return result


def restore(template: Path, target: Path) -> Callable[[], None]:
    """A reset that replaces ``target`` (a file or a folder) with a copy of ``template``."""

    def reset() -> None:
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
            Path(f"{target}.wal").unlink(missing_ok=True)
        if template.is_dir():
            shutil.copytree(template, target)
        else:
            shutil.copy2(template, target)

    return reset


def link(source: Path, target: Path) -> None:
    """A hard link (same bytes, same mtime, no copy), else a copy keeping the mtime."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# -- set-up (untimed) -----------------------------------------------------------------------


def expected_figures(data: Dataset) -> tuple[Figures, Figures]:
    """The table's figures before the delta (the base) and after it (the snapshot).

    The generator is checked too: the snapshot's changed rows must be the delta's rows.
    """
    before = figures(parquet_relation(data.base), data)
    after = figures(parquet_relation(data.snapshot), data)
    delta = figures(parquet_relation([data.delta]), data)
    sizes = (before["ids"], after["ids"], delta["ids"])
    if (
        sizes != (data.rows, data.final_rows, data.delta_rows)
        or delta["checksum"] != after["changed"]
    ):
        raise SystemExit(f"{data.root}: the generated files are inconsistent; delete the folder")
    return before, after


def parquet_relation(files: list[Path]) -> str:
    return "read_parquet([" + ", ".join(f"'{path}'" for path in files) + "])"


def pipeline_yaml(path: str, write: str, *, profile: bool, incremental: str | None) -> str:
    """A one-source pipeline: Parquet ``path`` into ``orders`` in the default warehouse."""
    lines = [
        "pipeline: bench",
        "warehouse: {type: duckdb}",
        f"quality: {{profile: {'true' if profile else 'false'}}}",
        "sources:",
        "  orders:",
        "    type: parquet",
        f"    path: {json.dumps(path)}",
        f"    write: {write}",
    ]
    if write == "merge":
        lines.append("    primary_key: [id]")
    if incremental:
        lines.append(f"    incremental: {incremental}")
    return "\n".join(lines) + "\n"


def run_sluiceway(argv: list[str], project: Path, step: dict[str, int]) -> tuple[ChildRun, float]:
    """The child's figures and the run's own ``duration_s``; the step's counts checked."""
    child = measure_child(argv, project)
    out = child.stdout
    summary = json.loads(out)
    if summary["status"] != "succeeded":
        raise SystemExit(f"sluiceway run in {project} did not succeed:\n{out}")
    found = summary["steps"][0]
    wrong = {key: found.get(key) for key, value in step.items() if found.get(key) != value}
    if wrong:
        raise SystemExit(f"sluiceway run in {project}: expected {step}, the step says {wrong}")
    return child, float(summary["duration_s"])


def prepare_sluiceway(
    data: Dataset, work: Path, before: Figures, after: Figures
) -> list[Contender]:
    """The project (a landing folder of hard links), its untimed first load, the contenders.

    The first load merges the base files with ``files: true`` and a cursor on ``updated_at``,
    so the saved state serves both incremental flavours; then the delta lands in the folder.
    """
    project = work / "project"
    landing = project / "landing"
    landing.mkdir(parents=True)
    for path in data.base:
        link(path, landing / path.name)
    config = project / "sluiceway.yaml"
    both = "{files: true, cursor: updated_at}"
    config.write_text(pipeline_yaml("landing/*.parquet", "merge", profile=False, incremental=both))
    print(
        f"set-up: Sluiceway's first load of the {data.rows:,} base rows (not timed) …", flush=True
    )
    first = {"rows_read": data.rows, "rows_inserted": data.rows}
    child, _ = run_sluiceway(SLUICEWAY_RUN, project, first)
    print(f"set-up: … {child.seconds:.1f} s")
    state, template = project / ".sluiceway", work / "template-sluiceway"
    shutil.copytree(state, template)
    link(data.delta, landing / "delta.parquet")
    snapshot = str(data.root / "snapshot" / "*.parquet")
    reload_step = {"rows_read": data.final_rows, "rows_inserted": data.final_rows}
    merge_step = {
        "rows_read": data.delta_rows,
        "rows_inserted": data.inserted,
        "rows_updated": data.updated,
        "rows_unchanged": 0,
    }
    files = "{files: true}"
    cursor = "{cursor: updated_at}"
    # name, kind, how, rows written, pipeline file, step counts, figures after the run
    variants: list[tuple[str, str, str, int, str, dict[str, int], Figures]] = [
        (
            "full_reload",
            "reload",
            "sluiceway run, write: replace, the snapshot",
            data.final_rows,
            pipeline_yaml(snapshot, "replace", profile=True, incremental=None),
            reload_step,
            after,
        ),
        (
            "full_reload_unprofiled",
            "reload",
            "the same, quality: {profile: false}",
            data.final_rows,
            pipeline_yaml(snapshot, "replace", profile=False, incremental=None),
            reload_step,
            after,
        ),
        (
            "incremental",
            "merge",
            "sluiceway run, merge, incremental: {files: true}",
            data.delta_rows,
            pipeline_yaml("landing/*.parquet", "merge", profile=True, incremental=files),
            merge_step,
            after,
        ),
        (
            "incremental_unprofiled",
            "merge",
            "the same, quality: {profile: false}",
            data.delta_rows,
            pipeline_yaml("landing/*.parquet", "merge", profile=False, incremental=files),
            merge_step,
            after,
        ),
        (
            "incremental_cursor",
            "merge",
            "merge, incremental: {cursor: updated_at}: reads every file",
            data.delta_rows,
            pipeline_yaml("landing/*.parquet", "merge", profile=True, incremental=cursor),
            merge_step,
            after,
        ),
        (
            "incremental_noop",
            "merge",
            "files: true, nothing new: what any run costs",
            0,
            pipeline_yaml("landing/part-*.parquet", "merge", profile=True, incremental=files),
            {"rows_read": 0},
            before,
        ),
    ]
    return [
        Contender(
            name=name,
            kind=kind,
            how=how,
            rows=rows,
            argv=SLUICEWAY_RUN,
            cwd=project,
            reset=_configure(config, yaml, restore(template, state)),
            database=state / "warehouse.duckdb",
            table="main.orders",
            expected=expected,
            step=step,
        )
        for name, kind, how, rows, yaml, step, expected in variants
    ]


def _configure(config: Path, text: str, reset: Callable[[], None]) -> Callable[[], None]:
    def configure() -> None:
        reset()
        config.write_text(text)

    return configure


def prepare_limits(data: Dataset, work: Path, after: Figures) -> list[Contender]:
    """Raw DuckDB: a database holding the base rows (loaded once), copied before every run."""
    folder = work / "limit"
    folder.mkdir()
    database, template = folder / "orders.duckdb", work / "template-limit.duckdb"
    scripts = {}
    for name, code in LIMITS.items():
        scripts[name] = work / f"{name}.py"
        scripts[name].write_text(code)
    base = [str(path) for path in data.base]
    measure_child([sys.executable, str(scripts["limit_full_reload"]), str(database), *base], work)
    shutil.copy2(database, template)
    snapshot = [str(path) for path in data.snapshot]
    runs = {
        "limit_full_reload": (
            "reload",
            "DuckDB CREATE OR REPLACE TABLE AS read_parquet(snapshot)",
            data.final_rows,
            snapshot,
        ),
        "limit_merge": (
            "merge",
            "DuckDB, 1 transaction: DELETE the delta's ids, INSERT it",
            data.delta_rows,
            [str(data.delta)],
        ),
    }
    return [
        Contender(
            name=name,
            kind=kind,
            how=how,
            rows=rows,
            argv=[sys.executable, str(scripts[name]), str(database), *files],
            cwd=folder,
            reset=restore(template, database),
            database=database,
            table="main.orders",
            expected=after,
        )
        for name, (kind, how, rows, files) in runs.items()
    ]


def prepare_dlt(
    data: Dataset, work: Path, after: Figures, timeout: float
) -> tuple[list[Contender], str | None]:
    """dlt: its first load of the base rows (append, not timed), then merges of the delta.

    Returns no contender, and why, when dlt is missing or its first load fails or is too slow.
    """
    if find_spec("dlt") is None:
        return [], "dlt_merge: skipped, dlt is not installed (pip install -e '.[bench]')"
    folder, template = work / "dlt", work / "template-dlt"
    folder.mkdir()
    script = work / "dlt_contender.py"
    script.write_text(DLT)
    database, pipelines = folder / "orders.duckdb", folder / "pipelines"
    argv = [sys.executable, str(script)]
    base = [str(path) for path in data.base]
    print(f"set-up: dlt's first load of the {data.rows:,} base rows (not timed) …", flush=True)
    try:
        child = measure_child(
            [*argv, "append", str(database), str(pipelines), *base], work, timeout
        )
    except TimeoutError as exc:
        return [], f"dlt_merge: skipped, its first load of the base rows is too slow ({exc})"
    except SystemExit as exc:
        return [], f"dlt_merge: skipped, its first load of the base rows failed: {exc}"
    print(f"set-up: … {child.seconds:.1f} s")
    shutil.copytree(folder, template)
    contender = Contender(
        name="dlt_merge",
        kind="merge",
        how='dlt, write_disposition="merge" on id, Arrow batches',
        rows=data.delta_rows,
        argv=[*argv, "merge", str(database), str(pipelines), str(data.delta)],
        cwd=work,
        reset=restore(template, folder),
        database=database,
        table="bench.orders",
        expected=after,
    )
    return [contender], None


# -- timed runs -----------------------------------------------------------------------------


def measure_all(contenders: list[Contender], data: Dataset, repeat: int) -> list[Measurement]:
    """``repeat`` rounds of every contender once each, in turn; the table checked every run.

    Rounds rather than all runs of one contender in a row: a burst of load from elsewhere
    on the machine then hits one run of each rather than every run of one.
    """
    results = [Measurement(contender) for contender in contenders]
    for attempt in range(1, repeat + 1):
        for measurement in results:
            contender = measurement.contender
            contender.reset()
            if contender.step is not None:
                child, in_run = run_sluiceway(contender.argv, contender.cwd, contender.step)
                measurement.in_run.append(in_run)
            else:
                child = measure_child(contender.argv, contender.cwd)
            measurement.seconds.append(child.seconds)
            measurement.cpu_seconds.append(child.cpu_seconds)
            measurement.peak_rss_mb = max(measurement.peak_rss_mb, child.peak_rss_mb)
            found = figures(contender.table, data, contender.database)
            wrong = [
                f"{key}: expected {contender.expected[key]:,}, found {found[key]:,}"
                for key in ("rows", "ids", "checksum", "changed")
                if found[key] != contender.expected[key]
            ]
            verdict = "table checked" if not wrong else "MISMATCH: " + "; ".join(wrong)
            print(
                f"round {attempt}/{repeat}: {contender.name:<23} {child.seconds:7.2f} s "
                f"(cpu {child.cpu_seconds:6.2f} s)  {verdict}"
            )
            measurement.problems.extend(wrong)
    return results


# -- report ---------------------------------------------------------------------------------


def report(results: dict[str, Measurement], repeat: int) -> None:
    """The timings table, then the ratios that matter."""
    limits = {"reload": results["limit_full_reload"], "merge": results["limit_merge"]}
    full = results["full_reload"]
    print()
    print(
        f"seconds per contender (median of {repeat}; cpu: the child's user + system time; "
        "in-run: Sluiceway's own duration_s, without start-up)"
    )
    header = (
        f"{'contender':<23} {'median s':>9} {'cpu s':>7} {'in-run s':>9} {'rows out':>11} "
        f"{'rows/s':>12} "
        f"{'% full_reload':>13} {'x limit':>8} {'peak RSS MB':>12}  how"
    )
    print(header)
    for name, m in results.items():
        c = m.contender
        in_run = m.median_in_run_s
        rate = f"{c.rows / m.median_s:>12,.0f}" if c.rows else f"{'-':>12}"
        print(
            f"{name:<23} {m.median_s:>9.2f} {m.median_cpu_s:>7.2f} "
            f"{(f'{in_run:.2f}' if in_run is not None else '-'):>9} {c.rows:>11,} {rate} "
            f"{m.median_s / full.median_s:>13.1%} "
            f"{m.median_s / limits[c.kind].median_s:>8.2f} {m.peak_rss_mb:>12,.0f}  {c.how}"
        )
    print()
    print("ratios")
    pairs = [
        ("incremental", "full_reload", "start-up included, profiled: the defaults"),
        ("incremental_unprofiled", "full_reload_unprofiled", "quality: {profile: false}"),
        ("incremental_cursor", "full_reload", "a cursor instead of new files"),
        ("limit_merge", "limit_full_reload", "raw DuckDB: the floor"),
    ]
    for ours, theirs, note in pairs:
        wall = results[ours].median_s / results[theirs].median_s
        cpu = results[ours].median_cpu_s / results[theirs].median_cpu_s
        print(f"  {ours} / {theirs}: {wall:.1%}, cpu {cpu:.1%}  ({note})")
    ours_in, full_in = results["incremental"].median_in_run_s, full.median_in_run_s
    if ours_in is not None and full_in is not None:
        print(
            f"  incremental / full_reload, in-run: {ours_in / full_in:.1%}  "
            "(duration_s: without the CLI's start-up and imports)"
        )
    noop = results["incremental_noop"].median_s
    print(
        f"  incremental_noop / incremental: {noop / results['incremental'].median_s:.0%}  "
        f"(a run with nothing new costs {noop:.2f} s: start-up, warehouse, bookkeeping)"
    )
    for ours, theirs in (
        ("incremental", "limit_merge"),
        ("full_reload", "limit_full_reload"),
        ("incremental", "dlt_merge"),
    ):
        if theirs in results:
            wall = results[ours].median_s / results[theirs].median_s
            cpu = results[ours].median_cpu_s / results[theirs].median_cpu_s
            print(f"  {ours} / {theirs}: {wall:.2f}x, cpu {cpu:.2f}x")


def load_average() -> str:
    """The 1/5/15-minute load: the timings are wall times, other processes share the CPUs."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the target")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=600.0,
        help="seconds dlt's untimed first load may take before dlt is skipped",
    )
    args = parser.parse_args()
    if args.rows < 1000:
        parser.error("--rows must be at least 1000")
    print(f"set-up: data for {args.rows:,} rows (generated once, cached in {WORK}) …", flush=True)
    data = ensure_data(args.rows)
    before, after = expected_figures(data)
    work = WORK / f"run-{args.rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    size_mb = sum(path.stat().st_size for path in data.snapshot) / 1e6
    delta_mb = data.delta.stat().st_size / 1e6
    print(
        f"incremental: {data.rows:,}-row target; delta {data.delta_rows:,} rows "
        f"({data.updated:,} updates, {data.inserted:,} new ids, {delta_mb:.1f} MB Parquet); "
        f"full reload {data.final_rows:,} rows ({size_mb:,.0f} MB Parquet in "
        f"{len(data.snapshot)} files); median of {args.repeat} run(s)"
    )
    print("set-up: raw DuckDB's first load of the base rows (not timed) …", flush=True)
    contenders = prepare_limits(data, work, after)
    contenders += prepare_sluiceway(data, work, before, after)
    peers, skipped = prepare_dlt(data, work, after, args.peer_timeout)
    contenders += peers
    print(
        "every run starts from a copy of the same warehouse; Sluiceway runs are the CLI, "
        "start-up included; profiled runs profile the rows they load (the default)"
    )
    print(f"load average before the timed runs: {load_average()}")
    measurements = measure_all(contenders, data, args.repeat)
    print(f"load average after them: {load_average()} (on {os.cpu_count()} CPUs)")
    results = {m.contender.name: m for m in measurements}
    if skipped:
        print(skipped)
    report(results, args.repeat)
    wrong = sorted(name for name, m in results.items() if m.problems)
    if wrong:
        print(f"MISMATCH: {', '.join(wrong)} left a table other than the snapshot")
    else:
        print(
            f"every table checked after every run: {data.final_rows:,} rows, distinct ids, "
            "the checksum of all rows equals the snapshot's and of the changed rows the delta's"
        )
    shutil.rmtree(work, ignore_errors=True)
    ratio = results["incremental"].median_s / results["full_reload"].median_s
    ours_wrong = any(results[n].problems for n in ("incremental", "full_reload"))
    verdict = "met" if ratio <= GOAL and not ours_wrong else "missed"
    print(f"target incremental_vs_full_reload: {ratio:.1%} (goal <= {GOAL:.0%}) {verdict}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

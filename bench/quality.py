"""Quality benchmark: eleven rules and a column profile over 2M messy orders, five ways.

- limit:       ONE hand-written DuckDB SELECT (count_if, count(DISTINCT), quantile_cont …) over
               an in-memory DuckDB table — nothing that checks this table is faster;
- sluiceway:   ``check_table(DuckDBRunner(con), …, profile=True)`` over the same table;
- polars:      one lazy query over a DataFrame read once;
- great_expectations: GE 1.x, ephemeral context, pandas source, one expectation per rule
               (GE 1.x has no profiler: the profile comes from pandas, timed too);
- pandera:     a pandas DataFrameSchema, ``validate(lazy=True)``, failure cases counted per
               rule; the profile from pandas.

Loading is outside the timing: the Parquet file goes into a DuckDB table (read by the limit
and by Sluiceway), a Polars DataFrame and a pandas DataFrame (shared by GE and pandera) before
any clock starts. Then ``--repeat`` rounds run every contender once each, in turn, in this
process; the median wall time counts (the CPU time of every thread is shown beside it: unlike
wall time, it hardly moves with the load of other processes on the machine). Every contender
must report the same failing count per rule and the same profile numbers as the limit: a
mismatch is a bug, printed loudly, and the script exits non-zero.
Targets: Sluiceway within 2x of the limit's time, faster than GE and than pandera.

    python bench/quality.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from quality_data import ensure_parquet
from quality_peers import (
    ACCEPTED_STATUSES,
    AMOUNT_MAX,
    AMOUNT_MIN,
    MAX_EMAIL_NULL_SHARE,
    PROFILE_STATS,
    QUANTILES,
    QUANTITY_MIN,
    RULE_IDS,
    TABLE,
    Figures,
    Runner,
    load_pandas,
    prepare_great_expectations,
    prepare_limit,
    prepare_pandera,
    prepare_polars,
    put_profile,
)

# Sluiceway's YAML rule shape, one per rule, ids shared with every peer's figures.
RULES: list[dict[str, Any]] = [
    {"id": "order_id_not_null", "rule": "not_null", "column": "order_id"},
    {"id": "customer_id_not_null", "rule": "not_null", "column": "customer_id"},
    {"id": "email_not_null", "rule": "not_null", "column": "email"},
    {"id": "order_id_unique", "rule": "unique", "columns": ["order_id"]},
    {
        "id": "amount_range",
        "rule": "range",
        "column": "amount",
        "min": AMOUNT_MIN,
        "max": AMOUNT_MAX,
    },
    {"id": "quantity_range", "rule": "range", "column": "quantity", "min": QUANTITY_MIN},
    {
        "id": "status_values",
        "rule": "accepted_values",
        "column": "status",
        "values": list(ACCEPTED_STATUSES),
    },
    {"id": "email_format", "rule": "format", "column": "email", "format": "email"},
    {"id": "zip_format", "rule": "format", "column": "zip", "format": "zip_us"},
    {"id": "state_length", "rule": "length", "column": "state", "min": 2, "max": 2},
    {
        "id": "email_completeness",
        "rule": "completeness",
        "column": "email",
        "max_null_share": MAX_EMAIL_NULL_SHARE,
    },
]
CONTENDERS = ("limit", "sluiceway", "polars", "great_expectations", "pandera")
NOTES = {
    "limit": "1 SELECT, DuckDB table",
    "sluiceway": "check_table, same table",
    "polars": "1 lazy select",
    "great_expectations": "suite + pandas profile",
    "pandera": "schema + pandas profile",
}
# Floats from different engines differ in the last bits (summation order); counts must not.
REL_TOL = 1e-9


def prepare_sluiceway(con: duckdb.DuckDBPyConnection, table: str) -> Runner:
    """Sluiceway: imports untimed (like the peers'); the run checks every rule and profiles."""
    import sqlglot

    from sluiceway.quality.check import (  # type: ignore[import-not-found, unused-ignore]
        check_table,
    )
    from sluiceway.quality.profile import (  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
        profile_table,
    )
    from sluiceway.quality.sql import DuckDBRunner

    relation = sqlglot.exp.table_(table, quoted=True)

    def run() -> Figures:
        outcome = check_table(DuckDBRunner(con), relation, RULES, table=table, profile=True)
        return sluiceway_figures(outcome)

    return run


def sluiceway_figures(outcome: Any) -> Figures:
    """A ``TableCheck``'s rule results and profile as :data:`Figures`.

    Only the statistics every contender computes are passed on: a profile column also carries
    ``type`` and ``kind`` (text, which ``put_profile`` would read as a timestamp in a temporal
    column), the sketch, histogram, top values and patterns.
    """
    figures: Figures = {}
    for result in outcome.results:
        if result.rule_id == "email_completeness":
            observed = result.observed
            figures[result.rule_id] = math.nan if observed is None else float(observed)
        else:
            figures[result.rule_id] = int(result.failing)
    for column in outcome.profile.to_dict()["columns"]:
        stats = {k: column[k] for k in PROFILE_STATS}
        quantiles = column.get("quantiles") or {}
        stats.update({k: quantiles[k] for k in QUANTILES if k in quantiles})
        put_profile(figures, column["name"], stats)
    return figures


def sluiceway_available() -> bool:
    """Whether the quality engine (``sluiceway.quality.check``) can be imported yet."""
    try:
        import sluiceway.quality.check  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Measurement:
    name: str
    rows: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    figures: Figures = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        """CPU seconds of this process (every thread): what the run cost, whatever the load."""
        return statistics.median(self.cpu_seconds)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.median_s


def load_duckdb(parquet: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the orders as a table, as Sluiceway would check them."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM read_parquet(?)", [str(parquet)])
    return con


def preparers(
    con: duckdb.DuckDBPyConnection, parquet: Path, has_sluiceway: bool
) -> dict[str, Callable[[], Runner]]:
    """The untimed set-up of each contender (imports, loading), returning its timed run."""
    pandas_frame: list[Any] = []

    def frame() -> Any:
        # GE and pandera share one DataFrame, read on first use (pandas' default dtypes).
        if not pandas_frame:
            pandas_frame.append(load_pandas(parquet))
        return pandas_frame[0]

    steps: dict[str, Callable[[], Runner]] = {"limit": lambda: prepare_limit(con)}
    if has_sluiceway:
        steps["sluiceway"] = lambda: prepare_sluiceway(con, TABLE)
    steps["polars"] = lambda: prepare_polars(parquet)
    steps["great_expectations"] = lambda: prepare_great_expectations(frame())
    steps["pandera"] = lambda: prepare_pandera(frame())
    return steps


def measure_all(
    progress: Progress, con: duckdb.DuckDBPyConnection, parquet: Path, rows: int, repeat: int
) -> tuple[dict[str, Measurement], list[str], list[str]]:
    """Every contender's timings and figures; why some did not run; Sluiceway's failure if any.

    Every contender is prepared first; then ``repeat`` rounds run each contender once, in
    turn, so that a burst of load from elsewhere on the machine hits one run of each rather
    than every run of one. A peer that is not installed is skipped; a peer that crashes stops
    the benchmark; a Sluiceway run that raises is reported (and fails the benchmark) but the
    peers still run.
    """
    has_sluiceway = sluiceway_available()
    skipped = [] if has_sluiceway else ["sluiceway: quality engine not available yet"]
    failed: list[str] = []
    runs: dict[str, Runner] = {}
    tasks: dict[str, TaskID] = {}
    for name, prepare in preparers(con, parquet, has_sluiceway).items():
        tasks[name] = progress.add_task(f"{name}: preparing", total=repeat)
        try:
            runs[name] = prepare()
        except ImportError as error:
            skipped.append(f"{name}: not installed ({error.name}); pip install -e '.[bench]'")
            progress.update(tasks[name], description=f"{name}: skipped", completed=repeat)
            continue
        progress.update(tasks[name], description=f"{name}: ready")
    results = {name: Measurement(name, rows) for name in runs}
    for attempt in range(repeat):
        for name, run in list(runs.items()):
            measurement = results[name]
            progress.update(tasks[name], description=f"{name}: run {attempt + 1}/{repeat}")
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                measurement.figures = run()
            except Exception as error:
                if name != "sluiceway":
                    raise
                # The engine is being written alongside this benchmark: report, keep the peers.
                failed.append(f"sluiceway: FAILED: {type(error).__name__}: {error}")
                progress.update(tasks[name], description=f"{name}: failed", completed=repeat)
                del runs[name]
                continue
            measurement.seconds.append(time.perf_counter() - wall)
            measurement.cpu_seconds.append(time.process_time() - cpu)
            progress.update(
                tasks[name], advance=1, description=f"{name}: {measurement.median_s:.2f} s"
            )
    return {n: m for n, m in results.items() if m.seconds}, skipped, failed


def same(expected: int | float, actual: int | float) -> bool:
    """Counts must be equal; floats (means, shares, quantiles) equal to ``REL_TOL``."""
    if isinstance(expected, int) and isinstance(actual, int):
        return expected == actual
    return math.isclose(float(expected), float(actual), rel_tol=REL_TOL, abs_tol=1e-12)


def mismatches(reference: Figures, figures: Figures) -> list[tuple[str, str, str]]:
    """(key, limit's value, contender's value) for every figure that differs or is missing."""
    found = []
    for key in sorted(reference, key=_key_order):
        if key not in figures:
            found.append((key, _fmt(reference[key]), "missing"))
        elif not same(reference[key], figures[key]):
            found.append((key, _fmt(reference[key]), _fmt(figures[key])))
    return found


def _key_order(key: str) -> tuple[int, str]:
    return (RULE_IDS.index(key), "") if key in RULE_IDS else (len(RULE_IDS), key)


def _fmt(value: int | float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.12g}"


def cross_check(console: Console, results: dict[str, Measurement]) -> set[str]:
    """Compare every contender with the limit; print the verdict; the names that disagree."""
    reference = results["limit"].figures
    wrong: set[str] = set()
    for name, measurement in results.items():
        if name == "limit":
            continue
        found = mismatches(reference, measurement.figures)
        if not found:
            continue
        wrong.add(name)
        table = Table(title=f"MISMATCH: {name} disagrees with the limit", style="bold red")
        for column in ("figure", "limit", name):
            table.add_column(column, justify="right" if column != "figure" else "left")
        for row in found:
            table.add_row(*row)
        console.print(table)
    checked = [n for n in results if n != "limit"]
    if wrong:
        console.print(f"[bold red]cross-check FAILED: {', '.join(sorted(wrong))} disagree[/]")
    else:
        console.print(
            f"[bold green]cross-check passed[/]: {', '.join(checked)} report the limit's "
            f"{len(RULE_IDS)} rule results and {len(reference) - len(RULE_IDS)} profile numbers",
            soft_wrap=True,
        )
    return wrong


def rule_table(results: dict[str, Measurement]) -> Table:
    """Failing rows per rule (completeness: null share) as the limit computed them."""
    table = Table(title="rule results (limit)")
    table.add_column("rule")
    table.add_column("failing", justify="right")
    for rule in RULE_IDS:
        table.add_row(rule, _fmt(results["limit"].figures[rule]))
    return table


def timing_table(results: dict[str, Measurement], repeat: int) -> Table:
    limit = results["limit"]
    table = Table(title=f"seconds per implementation (median of {repeat})")
    headers = ("implementation", "median s", "rows/s", "x limit", "cpu s", "cpu x limit", "how")
    for column in headers:
        table.add_column(column, justify="left" if column in {"implementation", "how"} else "right")
    for name, m in results.items():
        table.add_row(
            name,
            f"{m.median_s:.3f}",
            f"{m.rows_per_s:,.0f}",
            f"{m.median_s / limit.median_s:.2f}",
            f"{m.median_cpu_s:.3f}",
            f"{m.median_cpu_s / limit.median_cpu_s:.2f}",
            NOTES[name],
        )
    return table


def target_lines(results: dict[str, Measurement], wrong: set[str]) -> list[str]:
    """The ``target`` lines; Sluiceway misses every target while its figures are wrong."""
    ours = results.get("sluiceway") if "sluiceway" not in wrong else None
    lines = []
    for target, peer, goal, limit, inclusive in (
        ("quality_vs_sql", "limit", "<= 2.0", 2.0, True),
        ("quality_vs_great_expectations", "great_expectations", "< 1.0", 1.0, False),
        ("quality_vs_pandera", "pandera", "< 1.0", 1.0, False),
    ):
        other = results.get(peer)
        if ours is None or other is None:
            lines.append(f"target {target}: n/a (goal {goal}) missed")
            continue
        ratio = ours.median_s / other.median_s
        met = ratio <= limit if inclusive else ratio < limit
        lines.append(f"target {target}: {ratio:.2f}x (goal {goal}) {'met' if met else 'missed'}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    # Three rounds by default: one run of each is at the mercy of whatever else the machine does.
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Piped into a log (make bench), rich would wrap the tables at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=120)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"data: {args.rows:,} rows → Parquet", total=2)
        parquet = ensure_parquet(args.rows)
        progress.update(task, advance=1, description="data: Parquet → DuckDB table")
        con = load_duckdb(parquet)
        progress.update(task, advance=1, description="data: loaded")
        results, skipped, failed = measure_all(progress, con, parquet, args.rows, args.repeat)
    size_mb = parquet.stat().st_size / 1e6
    console.print(
        f"quality: {args.rows:,} rows, {size_mb:,.0f} MB Parquet ({parquet}), "
        f"{len(RULE_IDS)} rules + profile of 9 columns, median of {args.repeat} run(s); "
        "loading is not timed",
        soft_wrap=True,
    )
    console.print(
        "great_expectations: GE 1.x no longer profiles; its profile numbers are computed with "
        "pandas (timed); pandera's likewise",
        soft_wrap=True,
    )
    for line in skipped:
        console.print(f"[yellow]{line}[/]")
    for line in failed:
        console.print(f"[bold red]{line}[/]", soft_wrap=True)
    console.print(timing_table(results, args.repeat))
    console.print(rule_table(results))
    wrong = cross_check(console, results)
    for line in target_lines(results, wrong):
        print(line)
    return 1 if wrong or failed else 0


if __name__ == "__main__":
    sys.exit(main())

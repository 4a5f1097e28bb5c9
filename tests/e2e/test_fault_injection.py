"""Fault injection: SIGKILL ``sluiceway run`` again and again; the re-run must leave the target
exactly as one clean run leaves it.

Design
------
One pipeline, three incremental sources that keep state in ``_sluiceway.state``:

- ``orders``: CSV files, ``incremental: {files: true}``, ``write: merge`` on ``id``. Each drop
  adds a file whose ids overlap the previous drop's (rows updated, some equal: unchanged), and
  one drop rewrites an earlier file (a changed file, read again).
- ``events``: Parquet files, ``incremental: {cursor: updated_at}``, ``write: merge`` on ``id``.
  Every run reads every file and the cursor keeps only rows past the committed cursor; each
  drop updates ids of the previous one and brings late rows behind the cursor (never loaded).
- ``clicks``: NDJSON files, ``incremental: {files: true}``, ``write: append``: a file read
  twice would duplicate rows.

The inputs arrive in drops (rounds). A *reference* project receives every drop and runs once
per drop, cleanly. The *faulted* project receives the same drops (byte-identical files with the
same modification times); in each round it is killed with SIGKILL one or more times in a row
(each re-run starting from the wreck the previous kill left) and then run to completion. After
each round its warehouse must equal the reference's after the same drop: the same columns and
types, the same rows (count and a hash of every column but the per-load
``_sluiceway_load_id``), the same state (file lists by relative path, size, mtime and SHA-256;
the cursor's column and value), no row of an uncommitted load, no staging leftovers and an
empty dead-letter queue. Because each round starts from the previous round's recovered state,
kills also land in merges into existing rows, in file tracking with files already known and in
cursor reads with a stored cursor: "identical to one clean run" is checked under accumulated
state, not only on an empty warehouse.

Where a kill lands is read from the run's own JSON event log (everything it wrote before it
died): start-up, reading (a step started, no row staged yet), staging (some of the step's rows
staged), commit (all of the step's rows staged, its ``load_committed`` not yet written: the
merge, the quality profile and the COMMIT) or later. Random kills use a time drawn from the
reference run's span (run started to run finished). So that coverage does not depend on
chance, the first rounds also kill on chosen events: at batch N of a step (staging), on the
batch that completes a step's rows (commit), and right after a ``load_committed`` (a run that
dies after committing part of its work). A chosen kill that lands elsewhere (the run got
further before the signal arrived) is tried again on the next re-run. The test then asserts
that staging, commit and after-commit kills all happened.

At the end a run with no new input must change nothing, and ``sluiceway runs`` must show every
killed run as failed (its process died), none left ``running``.

``SLUICEWAY_FAULT_SEED`` replays a seed (every failure message names it);
``SLUICEWAY_FAULT_ROUNDS`` sets the number of rounds (default 5, at least 4).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sluiceway.core.clock import monotonic
from sluiceway.core.names import LOAD_ID_COLUMN
from sluiceway.core.sql_quoting import quote_identifier
from tests.e2e.cli_process import COMMAND, sluiceway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED = int(os.environ.get("SLUICEWAY_FAULT_SEED") or random.SystemRandom().randrange(10**6))
ROUNDS = max(4, int(os.environ.get("SLUICEWAY_FAULT_ROUNDS") or 5))
STEPS = ("orders", "events", "clicks")
ORDERS, EVENTS, CLICKS = 60_000, 60_000, 40_000  # rows per drop
SHIFT = 40_000  # each drop's ids start this far after the previous drop's: 20,000 overlap
LATE = 500  # event rows per drop behind the cursor
RELOADED_IN = 3  # the drop that rewrites an earlier orders file

PIPELINE = """\
    pipeline: faults
    defaults: {batch_size: 2000}
    sources:
      orders:
        type: csv
        path: orders/*.csv
        write: merge
        primary_key: [id]
        incremental: {files: true}
      events:
        type: parquet
        path: events/*.parquet
        write: merge
        primary_key: [id]
        incremental: {cursor: updated_at}
      clicks:
        type: ndjson
        path: clicks/*.ndjson
        write: append
        incremental: {files: true}
    """

Event = dict[str, Any]


# -- inputs ---------------------------------------------------------------------------------


def relative(path: str, base: Path) -> str:
    """A tracked file's name relative to the project (state keeps it so; older state kept
    absolute paths)."""
    kept = Path(path)
    return kept.relative_to(base).as_posix() if kept.is_absolute() else kept.as_posix()


def orders_sql(drop: int, *, version: int) -> str:
    """Orders of ``drop``; even ids change with ``version``, odd ones stay as they were."""
    first = drop * SHIFT
    return f"""
        SELECT i AS id, 'customer ' || (i % 997) AS customer,
               round((i * 7) % 10000 / 100.0 + CASE WHEN i % 2 = 0 THEN {version} ELSE 0 END, 2)
                   AS amount,
               ['open', 'paid', 'shipped'][1 + (i + CASE WHEN i % 4 = 0 THEN {version} ELSE 0 END)
                   % 3] AS status
        FROM range({first}, {first + ORDERS}) t(i)"""


def events_sql(drop: int) -> str:
    """Events of ``drop``: later than anything before it, plus late rows behind the cursor."""
    first = drop * SHIFT
    fresh = f"""
        SELECT i AS id, 'kind ' || (i % 17) AS kind, (i * 31 + {drop}) % 100000 AS value,
               TIMESTAMP '2024-01-01' + to_seconds({drop} * 86400 + i % 86000) AS updated_at
        FROM range({first}, {first + EVENTS}) t(i)"""
    if drop == 0:
        return fresh
    late = f"""
        SELECT 10000000 + {drop} * {LATE} + i AS id, 'late' AS kind, i AS value,
               TIMESTAMP '2024-01-01' + to_seconds({drop - 1} * 86400 + i) AS updated_at
        FROM range({LATE}) t(i)"""
    return f"{fresh} UNION ALL {late} ORDER BY id"


def write_drops(inputs: Path, rounds: int) -> None:
    """Every drop's files, written once: both projects get copies of the same bytes."""
    with duckdb.connect() as con:
        for drop in range(rounds):
            folder = inputs / f"drop{drop:02d}"
            for name in STEPS:
                (folder / name).mkdir(parents=True)
            con.execute(
                f"COPY ({orders_sql(drop, version=drop)}) "
                f"TO '{folder / 'orders' / f'day{drop:02d}.csv'}' (HEADER)"
            )
            if drop == RELOADED_IN:  # an earlier file corrected in place
                con.execute(
                    f"COPY ({orders_sql(1, version=100)}) "
                    f"TO '{folder / 'orders' / 'day01.csv'}' (HEADER)"
                )
            con.execute(
                f"COPY ({events_sql(drop)}) "
                f"TO '{folder / 'events' / f'part{drop:02d}.parquet'}' (FORMAT parquet)"
            )
            con.execute(
                f"COPY (SELECT {drop} * 1000000 + i AS click, i % 5000 AS user_id, "
                f"'page/' || (i % 50) AS page FROM range({CLICKS}) t(i)) "
                f"TO '{folder / 'clicks' / f'c{drop:02d}.ndjson'}' (FORMAT json)"
            )


def make_project(root: Path) -> Path:
    root.mkdir()
    (root / "sluiceway.yaml").write_text(textwrap.dedent(PIPELINE))
    return root


def deliver(inputs: Path, drop: int, root: Path) -> None:
    """Copy drop ``drop`` into the project, keeping modification times (the file tracker
    compares them)."""
    folder = inputs / f"drop{drop:02d}"
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            target = root / path.relative_to(folder)
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(path, target)


# -- running and killing --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """When to SIGKILL a run: after ``after_s`` seconds, on the first event ``on`` accepts,
    or never. ``wanted`` says whether a chosen kill landed where it was aimed."""

    label: str
    after_s: float | None = None
    on: Callable[[Event, list[Event]], bool] | None = None  # (event, events so far)
    wanted: Callable[[Attempt], bool] | None = None


@dataclass
class Attempt:
    """One ``sluiceway run``: its events (all it wrote before it ended) and how it ended."""

    label: str
    returncode: int
    events: list[Event]
    other: list[str]  # stderr lines that are not events (a traceback, say)
    duration_s: float
    phase: str = ""
    arrived: dict[str, float] = field(default_factory=dict)  # event → seconds after start

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    @property
    def run_id(self) -> str | None:
        return str(self.events[0]["run_id"]) if self.events else None

    @property
    def commits(self) -> int:
        return sum(e["event"] == "load_committed" for e in self.events)

    def summary(self) -> str:
        how = "killed" if self.killed else f"exit {self.returncode}"
        return f"{self.label}: {how} in {self.phase} after {self.commits} commit(s)"


def run(root: Path, plan: Plan, totals: dict[str, int]) -> Attempt:
    """Run the pipeline in a new process and kill it as ``plan`` says."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("SLUICEWAY_DEBUG", None)
    events: list[Event] = []
    other: list[str] = []
    arrived: dict[str, float] = {}
    started = monotonic()
    with subprocess.Popen(
        [*COMMAND, "--log-format", "json", "run"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stderr is not None

        def kill() -> None:
            process.send_signal(signal.SIGKILL)

        timer = threading.Timer(plan.after_s, kill) if plan.after_s is not None else None
        if timer is not None:
            timer.start()
        fired = False
        # Read to the end: after a kill, what is left in the pipe is what the process wrote
        # before it died, so the log says exactly how far it got.
        for line in process.stderr:
            if not line.startswith("{") or not line.endswith("\n"):  # a line cut by the kill
                other.append(line)
                continue
            event = json.loads(line)
            events.append(event)
            arrived.setdefault(event["event"], monotonic() - started)
            if plan.on is not None and not fired and plan.on(event, events):
                kill()
                fired = True
        # The pipe closed: the process has ended, and is not reaped before the timer is gone.
        if timer is not None:
            timer.cancel()
            timer.join()
        process.wait(60)
    attempt = Attempt(
        plan.label, process.returncode, events, other, monotonic() - started, arrived=arrived
    )
    attempt.phase = landed(events, totals) if attempt.killed else "not killed"
    return attempt


def landed(events: list[Event], totals: dict[str, int]) -> str:
    """Where a killed run was, from the last events it wrote."""
    step: str | None = None
    staged = 0
    after = ""
    for event in events:
        kind = event["event"]
        if kind == "step_started":
            step, staged, after = event["step"], 0, ""
        elif kind == "batch_staged":
            staged = int(event["rows"])
        elif kind == "load_committed":
            after = "after commit"
        elif kind == "step_finished" and not after:
            after = "between steps"
        elif kind == "run_finished":
            return "finishing"
    if step is None:
        return "start-up"
    if after:
        return after
    if staged == 0:
        return "reading"
    return "staging" if staged < totals[step] else "commit"


def recorded_as(attempt: Attempt) -> set[str]:
    """The statuses the metadata store may give a run. The store hears of every event before
    the log does, so a run killed once all its steps were done may have recorded success."""
    finished = {e["step"] for e in attempt.events if e["event"] == "step_finished"}
    if not attempt.killed or any(e["event"] == "run_finished" for e in attempt.events):
        return {"succeeded"}
    return {"failed", "succeeded"} if finished == set(STEPS) else {"failed"}


def staged_rows(event: Event, totals: dict[str, int]) -> int | None:
    """The rows a ``batch_staged`` event says its step staged so far, of a step that reads
    something in this round (None for other events)."""
    if event["event"] != "batch_staged" or not totals[event["step"]]:
        return None
    return int(event["rows"])


def at_batch(batch: int, totals: dict[str, int]) -> Plan:
    def on(event: Event, _: list[Event]) -> bool:
        rows = staged_rows(event, totals)
        return rows is not None and event["batch"] == batch and 0 < rows < totals[event["step"]]

    return Plan(f"kill at batch {batch}", on=on, wanted=lambda a: a.phase == "staging")


def at_last_batch(totals: dict[str, int]) -> Plan:
    def on(event: Event, _: list[Event]) -> bool:
        rows = staged_rows(event, totals)
        return rows is not None and rows == totals[event["step"]]

    return Plan("kill when a step's rows are staged", on=on, wanted=lambda a: a.phase == "commit")


def after_commit(number: int) -> Plan:
    def on(event: Event, events: list[Event]) -> bool:
        commits = sum(e["event"] == "load_committed" for e in events)
        return bool(event["event"] == "load_committed" and commits >= number)

    return Plan(
        f"kill after commit {number}",
        on=on,
        wanted=lambda a: a.killed and a.commits >= 1,
    )


def at_random_time(rng: random.Random, reference: Attempt) -> Plan:
    """A time between the reference run's start and finish (after Python's start-up)."""
    span = reference.arrived["run_started"], reference.arrived["run_finished"]
    delay = rng.uniform(*span)
    return Plan(f"kill at {delay:.2f}s", after_s=delay)


def step_totals(attempt: Attempt) -> dict[str, int]:
    """Rows each step read (past the cursor, from new files) in a clean run."""
    return {e["step"]: int(e["rows_in"]) for e in attempt.events if e["event"] == "step_finished"}


# -- what the warehouse holds ---------------------------------------------------------------


def fingerprint(root: Path) -> dict[str, Any]:
    """Everything one clean run decides: each table's columns and rows (all columns but the
    load id, which differs per load), the sources' state, and integrity counts."""
    base = root.resolve()
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        committed = "SELECT load_id FROM _sluiceway.loads WHERE status = 'committed'"
        tables: dict[str, Any] = {}
        for table in STEPS:
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = $t ORDER BY ordinal_position",
                {"t": table},
            ).fetchall()
            data = ", ".join(quote_identifier(c) for c, _ in columns if c != LOAD_ID_COLUMN)
            load = quote_identifier(LOAD_ID_COLUMN)
            rows, checksum, orphans = con.execute(
                f"SELECT count(*), sum(hash({data})), "
                f"count(*) FILTER (WHERE {load} IS NULL OR {load} NOT IN ({committed})) "
                f"FROM {quote_identifier(table)}"
            ).fetchall()[0]
            tables[table] = {
                "columns": columns,
                "rows": rows,
                "checksum": checksum,
                "rows of uncommitted loads": orphans,
            }
        state: dict[str, Any] = {}
        for source, name, value, load_id in con.execute(
            "SELECT source, name, value, load_id FROM _sluiceway.state "
            "WHERE pipeline = 'faults' ORDER BY source, name"
        ).fetchall():
            kept = json.loads(value)
            if name == "files":
                kept = {relative(path, base): facts for path, facts in kept.items()}
            state[f"{source}.{name}"] = kept
            (known,) = con.execute(
                "SELECT count(*) FROM _sluiceway.loads "
                "WHERE load_id = $id AND status = 'committed'",
                {"id": load_id},
            ).fetchall()[0]
            state[f"{source}.{name} from a committed load"] = known == 1
        staging = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = '_sluiceway_staging' ORDER BY table_name"
        ).fetchall()
        (dlq,) = con.execute("SELECT count(*) FROM _sluiceway.dlq").fetchall()[0]
    return {"tables": tables, "state": state, "staging leftovers": staging, "dlq rows": dlq}


def differences(got: dict[str, Any], want: dict[str, Any], prefix: str = "") -> list[str]:
    """What differs between two fingerprints, one line per leaf: ``tables.clicks.rows: ...``."""
    out: list[str] = []
    for key in sorted(set(got) | set(want)):
        mine, theirs = got.get(key, "(missing)"), want.get(key, "(missing)")
        if isinstance(mine, dict) and isinstance(theirs, dict):
            out += differences(mine, theirs, f"{prefix}{key}.")
        elif mine != theirs:
            out.append(f"{prefix}{key}: {mine!r:.300} here, {theirs!r:.300} in the clean run")
    return out


def loads(root: Path) -> list[tuple[str, str, int, int]]:
    with duckdb.connect(str(root / ".sluiceway" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT load_id, source, rows_inserted, rows_updated FROM _sluiceway.loads "
            "WHERE status = 'committed' ORDER BY finished_at"
        ).fetchall()
    return [(str(a), str(b), int(c), int(d)) for a, b, c, d in rows]


# -- the test -------------------------------------------------------------------------------


def test_sigkill_anywhere_then_rerun_equals_one_clean_run(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    context = f"seed {SEED} (replay: SLUICEWAY_FAULT_SEED={SEED})"
    inputs = tmp_path / "inputs"
    write_drops(inputs, ROUNDS)

    # The reference: each drop, one clean run.
    clean = make_project(tmp_path / "clean")
    references: list[tuple[Attempt, dict[str, int], dict[str, Any]]] = []
    for drop in range(ROUNDS):
        deliver(inputs, drop, clean)
        attempt = run(clean, Plan("clean"), dict.fromkeys(STEPS, 0))
        assert attempt.returncode == 0, f"{context}: clean run of drop {drop}: {attempt.other}"
        references.append((attempt, step_totals(attempt), fingerprint(clean)))
    first = references[0][2]
    assert [first["tables"][t]["rows"] for t in STEPS] == [ORDERS, EVENTS, CLICKS]
    assert references[1][1]["events"] == EVENTS  # late rows and earlier files: behind the cursor
    assert references[RELOADED_IN][1]["orders"] == 2 * ORDERS  # the corrected file read again
    assert all(r[2]["staging leftovers"] == [] and r[2]["dlq rows"] == 0 for r in references)

    faulted = make_project(tmp_path / "faulted")
    history: list[Attempt] = []
    for drop in range(ROUNDS):
        deliver(inputs, drop, faulted)
        reference, totals, expected = references[drop]
        chosen = [
            at_batch(rng.randint(2, 20), totals),
            at_last_batch(totals),
            after_commit(rng.randint(1, 2)),
        ]
        plans = [chosen[drop]] if drop < len(chosen) else []
        plans += [at_random_time(rng, reference) for _ in range(rng.randint(1, 2))]
        this_round = len(history)
        for plan in plans:
            for _ in range(3):
                attempt = run(faulted, plan, totals)
                history.append(attempt)
                assert attempt.returncode in (0, -signal.SIGKILL), (
                    f"{context}, drop {drop}, {attempt.summary()}: a re-run after a kill failed:\n"
                    + "".join(attempt.other[-20:])
                    + json.dumps(attempt.events[-3:], indent=1)
                )
                if plan.wanted is None or plan.wanted(attempt):
                    break
        done = run(faulted, Plan("complete"), totals)
        history.append(done)
        where = "; ".join(a.summary() for a in history[this_round:])
        assert done.returncode == 0, f"{context}, drop {drop} [{where}]: {done.other[-20:]}"
        assert differences(fingerprint(faulted), expected) == [], f"{context}, drop {drop}: {where}"

    kills = [a for a in history if a.killed]
    log = f"{context}: " + "; ".join(a.summary() for a in history)
    assert {"staging", "commit"} <= {a.phase for a in kills}, log
    assert any(a.commits for a in kills), log

    # Nothing new: the target and the state stay, and no load changes a row.
    before, known = fingerprint(faulted), {load[0] for load in loads(faulted)}
    again = run(faulted, Plan("nothing new"), dict.fromkeys(STEPS, 0))
    assert again.returncode == 0, f"{context}: {again.other[-20:]}"
    assert differences(fingerprint(faulted), before) == [], log
    assert [load for load in loads(faulted) if load[0] not in known and (load[2] or load[3])] == []

    # The metadata store: a killed run is failed (its process died), none is left running.
    listed = json.loads(sluiceway("runs", "--json", "--limit", "1000", cwd=faulted).stdout)
    status = {r["run_id"]: r["status"] for r in listed}
    attempts = {a.run_id: a for a in [*history, again] if a.run_id is not None}
    wrong = [
        f"{a.summary()}: {status.get(run_id)}"
        for run_id, a in attempts.items()
        if status.get(run_id) not in recorded_as(a)
    ]
    assert wrong == [], log
    # Runs killed before their first event reached the log.
    unseen = [r["status"] for r in listed if r["run_id"] not in attempts]
    assert unseen == ["failed"] * len(unseen), log
    assert len(unseen) <= sum(a.killed and a.run_id is None for a in history), log
    assert all("died" in r["error_message"] for r in listed if r["status"] == "failed"), log
    print(log)

"""``sluiceway``: the command line. Commands are thin; the work happens in the packages below.

Errors print as one paragraph (what, where, what to do) without a traceback; ``--debug`` adds
it. Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from typer.core import TyperGroup

from sluiceway.cli.context import CliState

app = typer.Typer(
    name="sluiceway",
    help="Move data from sources into a warehouse, checked and shaped on the way.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
runs_app = typer.Typer(help="Past runs: `sluiceway runs` lists them.", no_args_is_help=False)
demo_app = typer.Typer(help="The e-commerce demo.", no_args_is_help=False)
schema_app = typer.Typer(help="Registered schema versions of tables.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue: rows that did not load.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(demo_app, name="demo")
app.add_typer(schema_app, name="schema")
app.add_typer(dlq_app, name="dlq")
state_app = typer.Typer(
    help="Cursors of incremental sources, committed with their rows.", no_args_is_help=True
)
app.add_typer(state_app, name="state")
config_app = typer.Typer(
    help="The resolved configuration and where each value came from.", no_args_is_help=True
)
app.add_typer(config_app, name="config")
models_app = typer.Typer(help="SQL models: `sluiceway models list`.", no_args_is_help=True)
app.add_typer(models_app, name="models")
breakers_app = typer.Typer(
    help="Circuit breakers per endpoint: `sluiceway breakers` lists them.", no_args_is_help=False
)
app.add_typer(breakers_app, name="breakers")


class _TableOrCommand(TyperGroup):
    """``sluiceway quality TABLE`` is ``sluiceway quality trend TABLE``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["trend", *args]
        return super().resolve_command(ctx, args)


quality_app = typer.Typer(
    cls=_TableOrCommand,
    help="Quality scores, rule results and reports of loaded tables "
    "(`sluiceway quality TABLE` shows the trend).",
    no_args_is_help=True,
)
app.add_typer(quality_app, name="quality")

PipelineArg = Annotated[
    str | None,
    typer.Argument(
        help="A pipeline file, or the name of a pipeline in this project "
        "(default: ./sluiceway.yaml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _state(ctx: typer.Context) -> CliState:
    state = ctx.find_object(CliState)
    if state is None:  # commands invoked without the callback (tests)
        state = CliState()
        ctx.obj = state
    return state


@app.callback()
def main_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    log_format: Annotated[
        Literal["json", "console"] | None,
        typer.Option("--log-format", help="Log every event to stderr as JSON or text."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="The profile of the pipeline files to apply (dev, staging, prod ...); "
            "default: $SLUICEWAY_PROFILE, else `dev` when a file defines it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(debug=debug, log_format=log_format, profile=profile)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new project.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite sluiceway.yaml.")] = False,
) -> None:
    """Create a project: sluiceway.yaml with one pipeline, data/, models/, .gitignore."""
    from sluiceway.cli import render
    from sluiceway.cli.commands.init import scaffold

    written = scaffold(directory, force=force)
    out = render.stdout()
    for path in written:
        out.print(f"[green]created[/] {path}")
    out.print(f"\nNext: cd {directory} && sluiceway validate && sluiceway run")


@app.command()
def validate(ctx: typer.Context, pipeline: PipelineArg = None) -> None:
    """Check a pipeline file; every problem is reported with file:line:column."""
    from sluiceway.cli.commands.validate import validate as run_validate

    run_validate(_state(ctx), pipeline)


@app.command()
def run(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="Run only these steps (repeatable); `NAME+` adds everything downstream of "
            "it, `+NAME` everything it needs.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a pipeline: each source is read, checked, staged and committed atomically."""
    from sluiceway.cli.commands.run import execute

    state = _state(ctx)
    with interruptible():
        result = execute(state, state.load(pipeline), select=select, as_json=as_json)
    if result.status.value != "succeeded":
        raise typer.Exit(1)


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 20,
    pipeline: Annotated[str | None, typer.Option("--pipeline", "-p")] = None,
    status: Annotated[
        Literal["running", "paused", "succeeded", "failed", "cancelled"] | None,
        typer.Option("--status"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List past runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from sluiceway.cli.commands.runs import list_runs

    list_runs(_state(ctx), limit=limit, pipeline=pipeline, status=status, as_json=as_json)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    as_json: JsonOption = False,
) -> None:
    """Show one run and its steps."""
    from sluiceway.cli.commands.runs import show_run

    show_run(_state(ctx), run_id, as_json=as_json)


@runs_app.command("plan")
def runs_plan(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    step: Annotated[str | None, typer.Argument(help="One model step; default: every one.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The query plans of a run's model steps, as the warehouse explained them then
    (`models.explain`: estimated, or measured with `analyze`)."""
    from sluiceway.cli.commands.runs import show_plans

    show_plans(_state(ctx), run_id, step, as_json=as_json)


@app.command()
def query(
    ctx: typer.Context,
    sql: Annotated[
        str | None,
        typer.Argument(help="SQL in DuckDB's dialect (or --saved NAME).", show_default=False),
    ] = None,
    saved: Annotated[
        str | None,
        typer.Option(
            "--saved",
            help="Run the saved query NAME: queries/NAME.sql next to the pipeline, in the "
            "project, or bundled with the demo (`sluiceway queries` lists them).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Literal["table", "csv", "json"], typer.Option("--format", "-f", help="Output format.")
    ] = "table",
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Query this pipeline's warehouse.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Rows shown in table format.")
    ] = 100,
    write: Annotated[
        bool, typer.Option("--write", help="Allow statements that change the warehouse.")
    ] = False,
    native: Annotated[
        bool,
        typer.Option("--native", help="Send the SQL as written, in the warehouse's own dialect."),
    ] = False,
) -> None:
    """Run SQL (or a saved query) against the warehouse and print the result."""
    from sluiceway.cli.commands.query import run_query, run_saved_query

    if (sql is None) == (saved is None):
        raise typer.BadParameter(
            "give either SQL or --saved NAME (`sluiceway queries` lists the saved queries)",
            param_hint="SQL",
        )
    shown = limit if output == "table" else None
    if saved is not None:
        if write:
            raise typer.BadParameter("a saved query runs read-only", param_hint="--write")
        run_saved_query(
            _state(ctx), saved, output=output, pipeline=pipeline, limit=shown, native=native
        )
        return
    assert sql is not None
    run_query(
        _state(ctx),
        sql,
        output=output,
        pipeline=pipeline,
        limit=shown,
        write=write,
        native=native,
    )


@app.command()
def queries(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Print this saved query's SQL instead.", show_default=False),
    ] = None,
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", help="Look next to this pipeline file first."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the saved queries `sluiceway query --saved NAME` runs, with where each comes from."""
    from sluiceway.cli.commands.query import list_saved_queries, show_saved_query

    if name is not None:
        show_saved_query(_state(ctx), name, pipeline=pipeline)
        return
    list_saved_queries(_state(ctx), pipeline=pipeline, as_json=as_json)


@app.command()
def explain(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="SQL in DuckDB's dialect (see --native).")],
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Use this pipeline's warehouse.")
    ] = None,
    analyze: Annotated[
        bool,
        typer.Option(
            "--analyze", help="Run the statement to measure it (rolled back: nothing changes)."
        ),
    ] = False,
    output: Annotated[
        Literal["tree", "json"], typer.Option("--format", "-f", help="Output format.")
    ] = "tree",
    native: Annotated[
        bool,
        typer.Option("--native", help="Send the SQL as written, in the warehouse's own dialect."),
    ] = False,
) -> None:
    """Show the warehouse's plan of a query (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS))."""
    from sluiceway.cli.commands.explain import run_explain

    run_explain(_state(ctx), sql, pipeline=pipeline, analyze=analyze, output=output, native=native)


PipelineOption = Annotated[
    str | None,
    typer.Option(
        "--pipeline", "-p", help="Use this pipeline's warehouse (default: the project's)."
    ),
]
TableArg = Annotated[str, typer.Argument(help="A table, e.g. bronze.customers.")]


@schema_app.command("list")
def schema_list(
    ctx: typer.Context, pipeline: PipelineOption = None, as_json: JsonOption = False
) -> None:
    """Tables with a registered schema history."""
    from sluiceway.cli.commands.schema import list_tables

    list_tables(_state(ctx), pipeline=pipeline, as_json=as_json)


@schema_app.command("show")
def schema_show(
    ctx: typer.Context,
    table: TableArg,
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Default: the latest.")
    ] = None,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """A table's columns in its latest (or a given) schema version."""
    from sluiceway.cli.commands.schema import show

    show(_state(ctx), table, version=version, pipeline=pipeline, as_json=as_json)


@schema_app.command("history")
def schema_history(
    ctx: typer.Context,
    table: TableArg,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every schema version of a table: when, by which run, what changed."""
    from sluiceway.cli.commands.schema import history

    history(_state(ctx), table, pipeline=pipeline, as_json=as_json)


@schema_app.command("diff")
def schema_diff(
    ctx: typer.Context,
    table: TableArg,
    old: Annotated[int, typer.Argument(min=1, help="The earlier version.")],
    new: Annotated[int, typer.Argument(min=1, help="The later version.")],
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """What changed between two schema versions of a table."""
    from sluiceway.cli.commands.schema import show_diff

    show_diff(_state(ctx), table, old, new, pipeline=pipeline, as_json=as_json)


@schema_app.command("export")
def schema_export(
    ctx: typer.Context,
    table: TableArg,
    output_format: Annotated[
        Literal["json-schema", "avro"], typer.Option("--format", "-f", help="What to export.")
    ] = "json-schema",
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Default: the latest.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to a file.")] = None,
    pipeline: PipelineOption = None,
) -> None:
    """A schema version as JSON Schema (one row) or an Avro record schema."""
    from sluiceway.cli.commands.schema import export

    export(
        _state(ctx), table, version=version, output_format=output_format, out=out, pipeline=pipeline
    )


@app.command()
def profile(
    ctx: typer.Context,
    table: TableArg,
    pipeline: PipelineOption = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", "-c", help="Only these columns, comma-separated: a,b."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Top values and patterns kept per column.")
    ] = 10,
    bins: Annotated[int, typer.Option("--bins", min=1, help="Histogram bins per column.")] = 20,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Profile a table now: per column NULLs, distinct values, extremes, quantiles, top values,
    lengths and patterns."""
    from sluiceway.cli.commands.profile import show_profile

    show_profile(
        _state(ctx),
        table,
        pipeline=pipeline,
        columns=[c.strip() for c in columns.split(",") if c.strip()] if columns else None,
        top_n=top,
        bins=bins,
        html=html,
        as_json=as_json,
    )


@quality_app.command("trend")
def quality_trend(
    ctx: typer.Context,
    table: TableArg,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Loads to show.")] = 20,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """A table's quality score over its last loads, and the rules that failed."""
    from sluiceway.cli.commands.quality import trend

    trend(_state(ctx), table, pipeline=pipeline, limit=limit, as_json=as_json)


@quality_app.command("report")
def quality_report(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run (an id or a unique prefix).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON here.")] = None,
) -> None:
    """A run's quality report: rule results with failing samples, scores, profiles."""
    from sluiceway.cli.commands.quality import report

    report(_state(ctx), run_id, html=html, json_out=json_out)


@quality_app.command("suggest")
def quality_suggest(ctx: typer.Context, table: TableArg, pipeline: PipelineOption = None) -> None:
    """Profile a table and print rules its data satisfies, as YAML to paste under `checks:`."""
    from sluiceway.cli.commands.quality import suggest

    suggest(_state(ctx), table, pipeline=pipeline)


TableFilter = Annotated[str | None, typer.Option("--table", "-t", help="Only this table's rows.")]
LoadFilter = Annotated[str | None, typer.Option("--load", help="Only rows of this load.")]
ClassFilter = Annotated[
    str | None,
    typer.Option("--class", help="malformed, type_mismatch, schema, null_primary_key, rule"),
]
RuleFilter = Annotated[str | None, typer.Option("--rule", help="Only rows this rule quarantined.")]
SourceFilter = Annotated[str | None, typer.Option("--source", help="Only this source's rows.")]


def _dlq_filter(**values: str | None) -> Any:
    from sluiceway.engine.replay import DlqFilter

    return DlqFilter(**values)


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    table: TableFilter = None,
    load: LoadFilter = None,
    error_class: ClassFilter = None,
    rule: RuleFilter = None,
    source: SourceFilter = None,
    include_replayed: Annotated[
        bool, typer.Option("--all", help="Also rows already replayed (kept until purged).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest rows shown.")] = 50,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rejected rows waiting for a fix, newest first, with where they came from and why."""
    from sluiceway.cli.commands.dlq import list_rows

    list_rows(
        _state(ctx),
        _dlq_filter(table=table, load=load, error_class=error_class, rule=rule, source=source),
        include_replayed=include_replayed,
        limit=limit,
        pipeline=pipeline,
        as_json=as_json,
    )


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    table: TableFilter = None,
    load: LoadFilter = None,
    error_class: ClassFilter = None,
    rule: RuleFilter = None,
    source: SourceFilter = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be replayed; change nothing.")
    ] = False,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run open rows again through the current contract, cleaning and rules.

    Rows that now pass load; the rest go back to the queue with their new reason. The rows
    replayed are marked in the same transaction, so replaying twice loads nothing twice.
    """
    from sluiceway.cli.commands.dlq import replay_rows

    filters = _dlq_filter(table=table, load=load, error_class=error_class, rule=rule, source=source)
    ok = replay_rows(_state(ctx), filters, pipeline=pipeline, dry_run=dry_run, as_json=as_json)
    if not ok:
        raise typer.Exit(1)


@dlq_app.command("purge")
def dlq_purge(
    ctx: typer.Context,
    table: TableFilter = None,
    load: LoadFilter = None,
    error_class: ClassFilter = None,
    rule: RuleFilter = None,
    source: SourceFilter = None,
    replayed: Annotated[
        bool, typer.Option("--replayed", help="Only rows already replayed.")
    ] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Allow purging without a filter.")
    ] = False,
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete dead-letter rows for good (a filter, --replayed or --all is required)."""
    from sluiceway.cli.commands.dlq import purge_rows

    purge_rows(
        _state(ctx),
        _dlq_filter(table=table, load=load, error_class=error_class, rule=rule, source=source),
        replayed_only=replayed,
        everything=everything,
        pipeline=pipeline,
        as_json=as_json,
    )


@state_app.command("show")
def state_show(
    ctx: typer.Context, pipeline: PipelineArg = None, as_json: JsonOption = False
) -> None:
    """Every incremental source's cursor, when it last moved and which load moved it."""
    from sluiceway.cli.commands.state import show

    show(_state(ctx), pipeline, as_json=as_json)


@state_app.command("reset")
def state_reset(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (default: all).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Set the cursor to this value instead.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a source's cursor (the next run starts from `initial_value`) or move it."""
    from sluiceway.cli.commands.state import reset

    reset(_state(ctx), pipeline, source=source, to=to, yes=yes)


@state_app.command("gaps")
def state_gaps(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (default: all).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Periods of a time cursor that no load processed, between the first and the last one
    that was: each with the `sluiceway backfill` command that fills it."""
    from sluiceway.cli.commands.backfill import gaps

    gaps(_state(ctx), pipeline, source=source, as_json=as_json)


@app.command()
def backfill(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    *,
    source: Annotated[
        str, typer.Option("--source", "-s", help="The source to re-read (it needs a cursor).")
    ],
    start: Annotated[
        str, typer.Option("--from", help="The window's start (included), a cursor value.")
    ],
    end: Annotated[str, typer.Option("--to", help="The window's end (excluded), a cursor value.")],
    as_json: JsonOption = False,
) -> None:
    """Re-read a source's rows with the cursor in [FROM, TO) and load them idempotently: merge
    and scd2 by key, insert_overwrite by partition, append by replacing the window. The live
    cursor does not move; the periods covered count as processed (`state gaps`)."""
    from sluiceway.cli.commands.run import execute
    from sluiceway.engine.incremental import Backfill

    state = _state(ctx)
    with interruptible():
        result = execute(
            state,
            state.load(pipeline),
            as_json=as_json,
            trigger="backfill",
            backfill=Backfill(source, start, end),
        )
    if result.status.value != "succeeded":
        raise typer.Exit(1)


@dlq_app.command("show")
def dlq_show(
    ctx: typer.Context,
    row_id: Annotated[str, typer.Argument(help="LOAD_ID:SEQ, as `dlq list` prints it.")],
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """One rejected row: every field and the raw row."""
    from sluiceway.cli.commands.dlq import show_row

    show_row(_state(ctx), row_id, pipeline=pipeline, as_json=as_json)


@dlq_app.command("count")
def dlq_count(
    ctx: typer.Context,
    by: Annotated[
        Literal["table", "error_class", "column", "source", "load"], typer.Option("--by")
    ] = "table",
    pipeline: PipelineOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many rows wait in the dead-letter queue, grouped."""
    from sluiceway.cli.commands.dlq import count_rows

    count_rows(_state(ctx), by=by, pipeline=pipeline, as_json=as_json)


ScaleOption = Annotated[
    float, typer.Option("--scale", min=0.001, max=1000, help="1 ≈ 100k orders.")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Same seed, same data.")]


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve",
            help="Run and exit (for scripts and CI). The web console is not part of this "
            "release yet, so the demo always exits after loading.",
        ),
    ] = False,
    scale: ScaleOption = 1.0,
    seed: SeedOption = 42,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the data (.sluiceway/demo).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate the messy e-commerce data and load it into the embedded warehouse."""
    if ctx.invoked_subcommand is not None:
        return
    from sluiceway.cli.commands.demo import run_demo

    del no_serve  # nothing to serve yet; the flag is accepted so scripts can rely on it
    with interruptible():
        results = run_demo(_state(ctx), scale=scale, seed=seed, out=out, as_json=as_json)
    if any(r.status.value != "succeeded" for r in results):
        raise typer.Exit(1)


@demo_app.command("generate")
def demo_generate(
    scale: ScaleOption = 1.0,
    seed: SeedOption = 42,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-data"),
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The dataset's 'today' (YYYY-MM-DD); dates lead up to it."),
    ] = None,
) -> None:
    """Write the deterministic, deliberately messy dataset and its defect manifest."""
    from sluiceway.cli.commands.demo import generate_data

    day = dt.date.fromisoformat(as_of) if as_of else None
    with interruptible():
        generate_data(out.resolve(), scale=scale, seed=seed, as_of=day)


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="The profile to apply (default: as for every command)."),
    ] = None,
    output_format: Annotated[
        Literal["yaml", "json"], typer.Option("--format", "-f", help="Output format.")
    ] = "yaml",
) -> None:
    """The pipeline's resolved configuration (profile merged, ${VAR} and ${secret:NAME}
    substituted, defaults filled in) with where each value came from; secrets show as ***."""
    from sluiceway.cli.commands.config import show

    show(_state(ctx), pipeline, profile=profile, output_format=output_format)


@app.command()
def serve(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Run what is due now (catching up missed runs by each pipeline's policy), "
            "wait for those runs, and exit.",
        ),
    ] = False,
) -> None:
    """Run the project's scheduled pipelines until Ctrl-C (cron or interval, with catch-up)."""
    from sluiceway.cli.commands.serve import serve as serve_schedules

    with interruptible():
        code = serve_schedules(_state(ctx), once=once)
    if code:
        raise typer.Exit(code)


@app.command()
def schedules(
    ctx: typer.Context,
    last: Annotated[
        int, typer.Option("--last", "-n", min=0, help="Scheduled runs shown per pipeline.")
    ] = 5,
    as_json: JsonOption = False,
) -> None:
    """List scheduled pipelines: schedule, next and last fire time, last scheduled runs."""
    from sluiceway.cli.commands.schedules import list_schedules

    list_schedules(_state(ctx), as_json=as_json, last=last)


@models_app.command("list")
def models_list(
    ctx: typer.Context, pipeline: PipelineArg = None, as_json: JsonOption = False
) -> None:
    """The pipeline's SQL models: materialization, key, the tables each reads, its file."""
    from sluiceway.cli.commands.models import list_models

    list_models(_state(ctx), pipeline, as_json=as_json)


@app.command()
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="A model's name, e.g. silver.orders.")],
    pipeline: Annotated[str | None, typer.Option("--pipeline", "-p")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows to show.")] = 20,
    output_format: Annotated[
        Literal["table", "csv", "json"], typer.Option("--format", "-f", help="Output format.")
    ] = "table",
) -> None:
    """Preview a model's rows as its SQL computes them now, without materializing it."""
    from sluiceway.cli.commands.models import show_model

    show_model(_state(ctx), model, target=pipeline, limit=limit, output_format=output_format)


@app.command()
def lineage(
    ctx: typer.Context,
    ref: Annotated[
        list[str],
        typer.Argument(
            help="TABLE or TABLE.COLUMN (e.g. gold.revenue.revenue); `impact REF` lists "
            "everything downstream of REF."
        ),
    ],
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream/--upstream", help="What it feeds, or (default) what it comes from."
        ),
    ] = False,
    output_format: Annotated[
        Literal["tree", "json", "mermaid"], typer.Option("--format", "-f")
    ] = "tree",
    as_json: JsonOption = False,
) -> None:
    """Column-level lineage of tables and models: where a column comes from and how, what it
    feeds, and (`lineage impact REF`) everything a change to it can reach."""
    from sluiceway.cli.commands.lineage import show_impact, show_lineage

    state = _state(ctx)
    if ref[0] == "impact" and len(ref) == 2:
        show_impact(state, ref[1], as_json=as_json)
        return
    if len(ref) != 1:
        raise typer.BadParameter("give one TABLE[.COLUMN], or `impact TABLE.COLUMN`")
    show_lineage(
        state, ref[0], downstream=downstream, output_format="json" if as_json else output_format
    )


RunIdArg = Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")]


@app.command()
def plan(ctx: typer.Context, pipeline: PipelineArg = None, as_json: JsonOption = False) -> None:
    """The steps a run executes, by level (a level runs after the one above it), with why each
    waits for another (depends_on, references, a rule, a foreign key) and what it holds."""
    from sluiceway.cli.commands.control import show_plan

    show_plan(_state(ctx), pipeline, as_json=as_json)


@app.command()
def dag(
    ctx: typer.Context,
    pipeline: PipelineArg = None,
    fmt: Annotated[
        Literal["mermaid", "dot", "png", "svg"],
        typer.Option("--format", "-f", help="mermaid or dot (text), png or svg (a picture)."),
    ] = "mermaid",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file (png/svg: needed on a terminal)."),
    ] = None,
) -> None:
    """Draw the plan's DAG: steps by level, edges labelled with why (see docs/dag.md)."""
    from sluiceway.cli.commands.dag import draw_dag

    draw_dag(_state(ctx), pipeline, fmt=fmt, out=out)


@app.command()
def pause(ctx: typer.Context, run_id: RunIdArg) -> None:
    """Pause a running run (from any terminal): its steps hold at their next batch."""
    from sluiceway.cli.commands.control import send

    send(_state(ctx), run_id, "pause")


@app.command()
def resume(ctx: typer.Context, run_id: RunIdArg) -> None:
    """Resume a paused run where it held."""
    from sluiceway.cli.commands.control import send

    send(_state(ctx), run_id, "resume")


@app.command()
def cancel(ctx: typer.Context, run_id: RunIdArg) -> None:
    """Cancel a running or paused run: loads in progress roll back, committed steps stay."""
    from sluiceway.cli.commands.control import send

    send(_state(ctx), run_id, "cancel")


@app.command()
def restart(ctx: typer.Context, run_id: RunIdArg, as_json: JsonOption = False) -> None:
    """Re-run only the failed, skipped, blocked and cancelled steps of a finished run, as a new
    run; the steps that committed are not run again."""
    from sluiceway.cli.commands.control import restart as run_restart

    state = _state(ctx)
    with interruptible():
        result = run_restart(state, run_id, as_json=as_json)
    if result.status.value != "succeeded":
        raise typer.Exit(1)


@breakers_app.callback(invoke_without_command=True)
def breakers(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Circuit breakers: endpoint, state (closed, open, half-open), failures, last error."""
    if ctx.invoked_subcommand is not None:
        return
    from sluiceway.cli.commands.control import list_breakers

    list_breakers(_state(ctx), as_json=as_json)


@breakers_app.command("reset")
def breakers_reset(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help="The endpoint as `sluiceway breakers` shows it.")],
) -> None:
    """Close an endpoint's breaker by hand, once you know the endpoint is back."""
    from sluiceway.cli.commands.control import reset_breaker

    reset_breaker(_state(ctx), endpoint)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting.

    Typer reports usage errors itself (exit code 2) and ends every command with SystemExit;
    our own errors propagate to here and print as one paragraph.
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("SLUICEWAY_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="sluiceway", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        from sluiceway.cli.render import print_error

        print_error(exc, debug=debug)
        return 1
    return 0


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C during a long command: a short message and exit code 130, not a traceback.

    The runner has already recorded the run as cancelled and rolled back the current load.
    """
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        raise typer.Exit(130) from None


def main() -> NoReturn:
    """Entry point of the ``sluiceway`` command."""
    code = run_cli()
    # Every connection and file is closed by now. Tearing down DuckDB, pyarrow, SQLAlchemy and
    # sqlglot module by module would add a third of a second to every command; skip it.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`sluiceway runs | head`); not an error
        code = code or 0
    os._exit(code)

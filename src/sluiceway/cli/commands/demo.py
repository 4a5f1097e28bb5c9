"""``sluiceway demo``: generate the messy e-commerce data and load it, in one command."""

from __future__ import annotations

import datetime as dt
import json
import sys
from importlib import resources
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from sluiceway.cli import render
from sluiceway.cli.commands import run as run_command
from sluiceway.cli.context import CliState
from sluiceway.engine.runner import RunResult

# The first drop, then the second (schema changes, late updates) merged into it, the orders'
# history, and last the silver and gold layers (SQL models) built from those bronze tables.
DEMO_PIPELINES = (
    "ecommerce.yaml",
    "ecommerce_drop2.yaml",
    "ecommerce_history.yaml",
    "ecommerce_gold.yaml",
)


def demo_pipeline_file(name: str = DEMO_PIPELINES[0]) -> resources.abc.Traversable:
    return resources.files("sluiceway.demo").joinpath("pipelines", name)


def generate_data(out: Path, *, scale: float, seed: int, as_of: dt.date | None) -> None:
    from sluiceway.demo.generate import DEFAULT_AS_OF, generate

    console = render.stderr()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:

        def report(entity: str, done: int, total: int) -> None:
            if entity not in tasks:
                tasks[entity] = progress.add_task(entity, total=total)
            progress.update(tasks[entity], completed=done, total=total)

        manifest = generate(
            out, scale=scale, seed=seed, as_of=as_of or DEFAULT_AS_OF, progress=report
        )
    console.print(
        f"Generated the demo data in {out} (scale {scale}, seed {seed}); "
        f"defects are listed in {out / 'manifest.json'}."
    )
    del manifest


def run_demo(
    state: CliState, *, scale: float, seed: int, out: Path | None, as_json: bool
) -> list[RunResult]:
    """Generate the data, load the first drop, merge the second one into it, keep every
    order's history (scd2) from both drops' order files, then build the silver and gold
    layers (SQL models) from the bronze tables."""
    state_dir = state.state_dir()
    data_dir = (out or state_dir / "demo").resolve()
    generate_data(data_dir, scale=scale, seed=seed, as_of=None)
    results: list[RunResult] = []
    for name in DEMO_PIPELINES:
        with resources.as_file(demo_pipeline_file(name)) as file:
            pipeline = state.registry.load(Path(file), base_dir=data_dir, state_dir=state_dir)
        result = run_command.execute(
            state, pipeline, as_json=as_json, trigger="demo", print_json=False
        )
        results.append(result)
        if result.status.value != "succeeded":
            break  # the second drop builds on the first
    if as_json:
        payload = {"runs": [r.as_dict() for r in results]}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        out_console = render.stdout()
        out_console.print(
            "\nNext: [bold]sluiceway query --saved top_products[/]  ·  "
            "[bold]sluiceway queries[/] (every saved query)  ·  "
            "[bold]sluiceway lineage gold.daily_revenue.revenue[/]  ·  [bold]sluiceway runs[/]"
        )
    return results

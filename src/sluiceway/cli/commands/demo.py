"""``sluiceway demo``: generate the messy e-commerce data and load it, in one command."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from sluiceway.cli import render
from sluiceway.cli.commands import run as run_command
from sluiceway.cli.context import CliState
from sluiceway.engine.runner import RunResult

DEMO_PIPELINE = "ecommerce.yaml"


def demo_pipeline_file() -> resources.abc.Traversable:
    return resources.files("sluiceway.demo").joinpath("pipelines", DEMO_PIPELINE)


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
) -> RunResult:
    state_dir = state.state_dir()
    data_dir = (out or state_dir / "demo").resolve()
    generate_data(data_dir, scale=scale, seed=seed, as_of=None)
    with resources.as_file(demo_pipeline_file()) as file:
        pipeline = state.registry.load(Path(file), base_dir=data_dir, state_dir=state_dir)
    result = run_command.execute(state, pipeline, as_json=as_json, trigger="demo")
    if not as_json:
        out_console = render.stdout()
        out_console.print(
            '\nNext: [bold]sluiceway query[/] "SELECT state, count(*) FROM bronze.customers '
            'GROUP BY ALL ORDER BY 2 DESC LIMIT 10"  ·  [bold]sluiceway runs[/]'
        )
    return result

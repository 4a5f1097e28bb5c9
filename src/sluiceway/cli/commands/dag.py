"""``sluiceway dag PIPELINE --format mermaid|dot|png|svg``: the plan's DAG, drawn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.core.redaction import redact

TEXT_FORMATS = ("mermaid", "dot")
PICTURE_FORMATS = ("png", "svg")


def draw_dag(
    state: CliState,
    target: str | None,
    *,
    fmt: str,
    out: Path | None,
) -> None:
    """Write the DAG a run of ``target`` would execute as Mermaid or DOT text (stdout, or
    ``out``), or as a PNG or SVG picture (``out``; stdout only when it is not a terminal)."""
    from sluiceway.cli.commands.control import plan_of
    from sluiceway.engine import dag_render

    if fmt not in TEXT_FORMATS + PICTURE_FORMATS:
        raise ConfigError(
            f"cannot draw a DAG as {fmt!r}",
            hint=f"Formats: {', '.join(TEXT_FORMATS + PICTURE_FORMATS)}.",
        )
    if fmt in PICTURE_FORMATS and out is None and sys.stdout.isatty():
        raise ConfigError(
            f"--format {fmt} draws a picture, which a terminal cannot show",
            hint=f"Give a file: `sluiceway dag --format {fmt} --out dag.{fmt}` "
            f"(or pipe the output: `... --format {fmt} > dag.{fmt}`).",
        )
    pipeline = state.load(target)
    name = pipeline.name
    dag = plan_of(state, pipeline)
    for note in dag.notes:
        render.stderr().print(f"[yellow]note:[/] {redact(note)}")
    what = f"the {fmt} DAG of {name} ({len(dag.steps)} step(s), {len(dag.edges)} edge(s))"
    if fmt in PICTURE_FORMATS:
        picture: Literal["png", "svg"] = "png" if fmt == "png" else "svg"
        _write(dag_render.draw(dag, picture, title=name), out, what)
        return
    render_text = dag_render.to_dot if fmt == "dot" else dag_render.to_mermaid
    text = render_text(dag, title=name)
    if out is None:
        sys.stdout.write(text)
    else:
        _write(text.encode(), out, what)


def _write(data: bytes, out: Path | None, what: str) -> None:
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        render.stderr().print(f"wrote {what} to stdout")
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {out}: {exc.strerror or exc}",
            hint="Give a path in a folder that exists and that you can write to.",
        ) from exc
    render.stderr().print(f"wrote {what} to {out}")

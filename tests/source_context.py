"""A read context for testing a source on its own, without a pipeline or an engine."""

from __future__ import annotations

from pathlib import Path

from sluiceway.core.names import TableRef
from sluiceway.sources.base import ReadContext
from sluiceway.spec.models import BadRowPolicy, SourceSettings


def read_context(
    root: Path,
    *,
    batch_size: int = 65_536,
    lineage: bool = False,
    on_bad_rows: BadRowPolicy = "fail",
) -> ReadContext:
    """Paths resolve against ``root`` and display relative to it, as in a pipeline folder."""
    settings = SourceSettings(
        name="s",
        table=TableRef("s"),
        write="append",
        primary_key=(),
        batch_size=batch_size,
        lineage=lineage,
        on_bad_rows=on_bad_rows,
    )
    return ReadContext(
        pipeline="p",
        run_id="r",
        load_id="l",
        settings=settings,
        resolve_path=lambda p: root / p,
        display_path=lambda p: p.relative_to(root).as_posix(),
    )

"""A run's quality report as data: the JSON the HTML report and the console render.

The shape is documented in ``docs/quality.md``: one section per checked table with its score,
score history, rule results (with failing samples), cleaning report and profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sluiceway.quality.history import QualityEntry, QualityLog

HISTORY_LOADS = 30


def table_section(entry: QualityEntry, log: QualityLog) -> dict[str, Any]:
    earlier = log.history(entry.warehouse, entry.table, HISTORY_LOADS)
    upto = [e for e in earlier if e.checked_at <= entry.checked_at and e.score is not None]
    history = [
        {"load_id": e.load_id, "at": e.checked_at.isoformat(), "score": e.score}
        for e in reversed(upto)
    ]
    return {
        "table": entry.table,
        "step": entry.step,
        "load_id": entry.load_id,
        "committed": entry.committed,
        "rows": entry.rows,
        "score": None
        if entry.score is None
        else {"score": entry.score, "dimensions": entry.dimensions or {}},
        "score_history": history,
        "rules": entry.results,
        "cleaning": entry.cleaning or [],
        "profile": entry.profile,
    }


def run_report(
    run: Mapping[str, Any], entries: Sequence[QualityEntry], log: QualityLog
) -> dict[str, Any]:
    """``run``: the run's id, pipeline, status, times and row counts (from the metadata store);
    per-step row counts are taken from ``steps`` when given (``{step: {rows_read, ...}}``)."""
    steps: Mapping[str, Mapping[str, Any]] = run.get("steps", {})
    tables = []
    for entry in entries:
        section = table_section(entry, log)
        counts = steps.get(entry.step or "", {})
        section["rows_read"] = counts.get("rows_read", entry.rows)
        section["rows_loaded"] = counts.get("rows_loaded")
        section["rows_rejected"] = counts.get("rows_rejected")
        tables.append(section)
    return {
        "run_id": run.get("run_id"),
        "pipeline": run.get("pipeline"),
        "status": run.get("status"),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "rows_read": run.get("rows_read"),
        "rows_loaded": run.get("rows_loaded"),
        "rows_rejected": run.get("rows_rejected"),
        "tables": tables,
    }

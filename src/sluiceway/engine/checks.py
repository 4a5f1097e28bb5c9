"""Quality around one load: profile and rules on the staged rows, quarantine, checks after merge.

The order inside the load's transaction::

    stage → profile the staged rows → rules on them → `fail`: roll back
          → `quarantine`: failing rows to the DLQ → merge → table rules and reconciliation on
          the result (`fail` rolls back) → COMMIT

Results, the profile and the score are kept in the quality log whether the load committed or
rolled back: a load a rule stopped is exactly the one people need to see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import ConfigError, DataError, Location, SluicewayError
from sluiceway.core.rejects import RowRejection
from sluiceway.quality.check import CheckContext, LoadCounts, evaluate
from sluiceway.quality.cleaning import dedupe_query
from sluiceway.quality.history import QualityEntry, QualityLog
from sluiceway.quality.results import RuleResult
from sluiceway.quality.score import score
from sluiceway.spec.cleaning import DedupeSpec
from sluiceway.spec.models import SourceSettings
from sluiceway.spec.quality import QualitySettings
from sluiceway.warehouses.base import Load, LoadResult, Relation


class QualityGateError(DataError):
    """Rules with ``on_fail: fail`` failed; the load was rolled back."""


@dataclass
class LoadChecks:
    settings: SourceSettings
    quality: QualitySettings
    log: QualityLog
    warehouse: str
    run_id: str
    pipeline: str
    load_id: str
    source_rows: Any = None  # Callable[[], int]: rows the source produced, its rejects included
    results: list[RuleResult] = field(default_factory=list)
    profile: dict[str, Any] | None = None
    cleaning: list[dict[str, Any]] | None = None
    rows: int = 0

    @property
    def table(self) -> str:
        return str(self.settings.table)

    def _context(self, relation: Relation) -> CheckContext:
        return CheckContext(
            table=self.table,
            order=relation.order,
            hidden=relation.hidden,
            profile=self.profile,
            history=lambda n: self.log.profiles(self.warehouse, self.table, n),
        )

    def on_staged(self, load: Load, *, first_seq: int) -> None:
        """Dedupe, profile and check the staged rows; quarantine what must go; raise to stop."""
        staged = load.staged()
        if self.settings.dedupe is not None:
            self._dedupe(load, staged, self.settings.dedupe)
        names = column_names(staged)
        self._check_columns(names, staged.hidden)
        if self.quality.profile:
            self.profile = profile_relation(staged, self.table, self.load_id, names)
        with self._explained("on the staged rows"):
            evaluation = evaluate(
                staged.runner, staged.table, self.settings.checks, self._context(staged)
            )
        self.results = list(evaluation.results)
        self.rows = evaluation.results[0].checked if evaluation.results else self.rows
        self._raise_on_failures(evaluation.results)
        if evaluation.quarantine:
            moved = load.quarantine(
                [
                    RowRejection(q.rule_id, q.message, q.column, q.flag)
                    for q in evaluation.quarantine
                ],
                first_seq=first_seq,
            )
            self.results = [
                replace(r, quarantined=moved.get(r.rule_id, 0)) if r.rule_id in moved else r
                for r in self.results
            ]

    def _dedupe(self, load: Load, staged: Relation, spec: DedupeSpec) -> None:
        """One row per key; the report says how many rows the load dropped and by what rule."""
        order = staged.order.name if isinstance(staged.order, exp.Column) else None
        removed = load.keep_only(dedupe_query(staged.table, spec, order))
        by = f" by {spec.order_by}" if spec.order_by else " by arrival"
        self.cleaning = [
            *(self.cleaning or []),
            {
                "column": ", ".join(spec.key),
                "operation": f"dedupe (keep {spec.keep}{by})",
                "changed": removed,
                "examples": [],
            },
        ]

    def verify(self, relation: Relation, result: LoadResult) -> None:
        """Table-scope rules and reconciliation, on the merged target before COMMIT."""
        context = self._context(relation)
        if self.source_rows is not None:
            context.counts = LoadCounts(
                source_rows=int(self.source_rows()),
                loaded=result.rows_loaded,
                rejected=result.rows_rejected,
                merged=result.rows_merged,
                unchanged=result.rows_unchanged,
                deletions=result.delete_marks,
            )
        with self._explained("on the loaded table"):
            evaluation = evaluate(
                relation.runner, relation.table, self.settings.checks, context, final=True
            )
        self.results.extend(evaluation.results)
        self._raise_on_failures(evaluation.results)

    def _check_columns(self, names: list[str], hidden: frozenset[str]) -> None:
        """Every column a rule names is in the rows: else a clear error, not a SQL one."""
        present = {n.lower() for n in names}
        for spec in self.settings.checks:
            named = [getattr(spec, "column", None), *(getattr(spec, "columns", None) or [])]
            missing = [c for c in named if isinstance(c, str) and c.lower() not in present]
            if missing:
                shown = ", ".join(n for n in names if n not in hidden)
                raise ConfigError(
                    f"check {spec.rule_id!r} names column {missing[0]!r}, which the rows of "
                    f"{self.table} do not have",
                    location=Location(table=self.table),
                    hint=f"Columns: {shown}. A renamed column is checked under its new name.",
                )

    @contextmanager
    def _explained(self, where: str) -> Iterator[None]:
        """A rule whose SQL the warehouse refuses (an `expression`, a join) is a config error."""
        try:
            yield
        except SluicewayError:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(
                f"the checks of {self.table} could not run {where}: {first}",
                location=Location(table=self.table),
                hint="Check the columns and tables the rules' expressions, joins and "
                "consistency sides name.",
            ) from exc

    def _raise_on_failures(self, results: list[RuleResult]) -> None:
        failed = [r for r in results if r.blocks_load]
        if not failed:
            return
        lines = "; ".join(f"{r.rule_id}: {r.message} ({r.observed_text})" for r in failed)
        raise QualityGateError(
            f"{len(failed)} check(s) with on_fail: fail failed, so nothing was loaded: {lines}",
            location=Location(table=self.table),
            hint="Fix the data or the rule, or set `on_fail: quarantine` (failing rows go to "
            "the dead-letter queue) or `warn`. `sluiceway quality report RUN_ID` shows samples.",
        )

    def entry(self, *, committed: bool) -> QualityEntry:
        rated = score(self.results, self.quality.weights, self.profile)
        rows = self.rows or int((self.profile or {}).get("rows") or 0)
        return QualityEntry(
            warehouse=self.warehouse,
            table=self.table,
            load_id=self.load_id,
            checked_at=utcnow(),
            committed=committed,
            rows=rows,
            results=[r.to_dict() for r in self.results],
            score=rated.score,
            dimensions=rated.dimensions or None,
            profile=self.profile,
            cleaning=self.cleaning,
            run_id=self.run_id,
            pipeline=self.pipeline,
            step=self.settings.name,
        )

    def record(self, *, committed: bool) -> QualityEntry | None:
        if not (self.results or self.profile or self.cleaning):
            return None
        entry = self.entry(committed=committed)
        self.log.record(entry)
        return entry


def column_names(relation: Relation) -> list[str]:
    """The relation's columns, hidden ones included (one query that reads no rows)."""
    plain = relation.table.copy()
    plain.set("alias", None)
    names: list[str] = relation.runner.fetch(
        exp.select(exp.Star()).from_(plain).limit(0)
    ).column_names
    return names


def profile_relation(
    relation: Relation, table: str, load_id: str, names: list[str]
) -> dict[str, Any]:
    """The profile of the relation's visible columns ``names``."""
    from sluiceway.quality.profile import profile_table

    plain = relation.table.copy()
    plain.set("alias", None)
    columns = [c for c in names if c not in relation.hidden]
    profile = profile_table(relation.runner, plain, table=table, load_id=load_id, columns=columns)
    data: dict[str, Any] = profile.to_dict()
    return data

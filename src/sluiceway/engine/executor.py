"""Run a DAG's steps: in parallel where the edges allow, within limits, stopping cleanly.

- At most ``max_workers`` steps run at once, and at most ``limits[r]`` steps that hold
  resource ``r`` (an endpoint such as ``postgres://db:5432/shop``, a named resource, or
  ``warehouse``). A step waits for a slot without holding a worker.
- A step starts once every parent succeeded. A parent that failed, was blocked, skipped or
  cancelled makes its children ``skipped`` (and theirs), with the reason; independent branches
  go on.
- Cancelling the run (its token) starts nothing new; the running steps stop at their next
  batch and roll back; steps not started are ``cancelled``. Pausing it starts nothing new until
  it resumes (running steps hold at their next batch boundary, inside the token's check).
- With ``max_workers: 1`` steps run in the calling thread, one after another, in the DAG's
  order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from sluiceway.core.status import StepStatus
from sluiceway.engine.dag import Dag
from sluiceway.sources.base import CancelToken

_WAIT_S = 0.1


RunStep = Callable[[str], StepStatus]
NotRun = Callable[[str, StepStatus, str], None]


class StepExecutor:
    def __init__(
        self,
        dag: Dag,
        *,
        run_step: RunStep,
        not_run: NotRun,
        cancel: CancelToken,
        max_workers: int = 4,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        self.dag = dag
        self.run_step = run_step
        self.not_run = not_run
        self.cancel = cancel
        self.max_workers = max_workers
        self.limits = dict(limits or {})
        self.status: dict[str, StepStatus] = {}
        self.interrupted = False  # a second Ctrl-C reached the waiting thread

    def run(self) -> dict[str, StepStatus]:
        """Run every step; return each one's final status."""
        order = self.dag.order()
        if self.max_workers == 1:
            self._run_inline(order)
        else:
            self._run_parallel(order)
        return self.status

    def _run_inline(self, order: list[str]) -> None:
        for name in order:
            while self.cancel.paused and not self.cancel.cancelled:
                self.cancel.wait_resumed(_WAIT_S)
            if self.cancel.cancelled:
                self._finish(name, StepStatus.CANCELLED, "the run was cancelled before it started")
                continue
            if self._settle(name):
                continue
            self.status[name] = self.run_step(name)

    def _run_parallel(self, order: list[str]) -> None:
        pending = list(order)
        running: dict[Future[StepStatus], str] = {}
        held: Counter[str] = Counter()
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="sluiceway-step") as pool:
            while pending or running:
                try:
                    self._start_ready(pending, running, held, pool)
                    if not running:
                        if pending and self.cancel.paused:
                            self.cancel.wait_resumed(_WAIT_S)
                            continue
                        if pending and not self.cancel.cancelled:  # defensive: cannot happen
                            raise RuntimeError(f"steps cannot start: {', '.join(pending)}")
                        continue
                    done, _ = wait(running, timeout=_WAIT_S, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    # A second Ctrl-C: stop at the next batch, wait for the steps to roll back.
                    self.interrupted = True
                    self.cancel.cancel("interrupted")
                    continue
                for future in done:
                    name = running.pop(future)
                    for resource in self.dag.steps[name].resources:
                        held[resource] -= 1
                    self.status[name] = future.result()

    def _start_ready(
        self,
        pending: list[str],
        running: dict[Future[StepStatus], str],
        held: Counter[str],
        pool: ThreadPoolExecutor,
    ) -> None:
        for name in list(pending):
            if self.cancel.cancelled:
                pending.remove(name)
                self._finish(name, StepStatus.CANCELLED, "the run was cancelled before it started")
                continue
            if self._settle(name):
                pending.remove(name)
                continue
            if self.cancel.paused or len(running) >= self.max_workers:
                continue
            if any(self.status.get(p) is None for p in self.dag.parents(name)):
                continue  # a parent is still to run
            resources = self.dag.steps[name].resources
            if any(held[r] >= self.limits.get(r, self.max_workers) for r in resources):
                continue
            for resource in resources:
                held[resource] += 1
            pending.remove(name)
            running[pool.submit(self.run_step, name)] = name

    def _settle(self, name: str) -> bool:
        """Skip ``name`` if a parent ended without succeeding; True if it was skipped."""
        for parent in self.dag.parents(name):
            status = self.status.get(parent)
            if status is not None and status is not StepStatus.SUCCEEDED:
                self._finish(
                    name, StepStatus.SKIPPED, f"skipped: {parent}, which it needs, {status}"
                )
                return True
        return False

    def _finish(self, name: str, status: StepStatus, why: str) -> None:
        self.status[name] = status
        self.not_run(name, status, why)

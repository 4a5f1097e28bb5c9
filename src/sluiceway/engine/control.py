"""Operators steer a live run from another terminal: pause, resume, cancel.

``sluiceway pause RUN_ID`` writes a command to the metadata store
(:func:`sluiceway.meta.control.request`); the running process polls for it
(:class:`RunControlWatcher`) and acts on its run's token. The token is checked at every batch
boundary, inside running steps, so a pause holds a step between two batches (nothing committed
is redone, nothing is lost) and a cancel rolls the current loads back; no new step starts while
paused or after a cancel. The run shows as ``paused`` while it is.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from sluiceway.core.errors import SluicewayError
from sluiceway.core.events import Event, EventBus, EventKind
from sluiceway.core.status import RunStatus
from sluiceway.meta import control
from sluiceway.meta.store import MetaStore
from sluiceway.sources.base import CancelToken

POLL_S = 0.25


class RunControlWatcher:
    """A daemon thread that applies commands to ``run_id`` until stopped."""

    def __init__(
        self,
        store: MetaStore,
        *,
        run_id: str,
        pipeline: str,
        token: CancelToken,
        bus: EventBus,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.pipeline = pipeline
        self.token = token
        self.bus = bus
        self.poll_s = poll_s
        self.applied: list[str] = []  # the commands acted on, in order
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name=f"sluiceway-control-{run_id}", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def poll(self) -> str | None:
        """Apply the pending command, if any; return it."""
        request = control.pending(self.store, self.run_id)
        if request is None:
            return None
        if request.command == "pause":
            self.token.pause()
            self._live(RunStatus.PAUSED, EventKind.RUN_PAUSED, request.requested_by)
        elif request.command == "resume":
            self.token.resume()
            self._live(RunStatus.RUNNING, EventKind.RUN_RESUMED, request.requested_by)
        else:
            self.token.cancel(f"cancelled by {request.requested_by or 'an operator'}")
            self.token.resume()  # a paused run wakes up to roll back
        control.applied(self.store, self.run_id, request.requested_at)
        self.applied.append(request.command)
        return request.command

    def _live(self, status: RunStatus, kind: EventKind, by: str | None) -> None:
        self.store.set_live_status(self.run_id, status)
        self.bus.publish(Event(kind, self.run_id, self.pipeline, None, {"by": by}))

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.poll()
            except SluicewayError:
                continue  # the store is busy or gone for a moment: try at the next poll

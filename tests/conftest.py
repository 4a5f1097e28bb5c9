"""Shared fixtures: a fresh registry, a project folder, a pipeline writer, service checks."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from sluiceway.core.events import Event, EventBus
from sluiceway.engine.registry import Registry
from sluiceway.engine.runner import PipelineRunner, RunResult
from sluiceway.spec.loader import LoadedPipeline

REQUIRE_SERVICES = os.environ.get("SLUICEWAY_REQUIRE_SERVICES") == "1"


def write(path: Path, text: str) -> None:
    """Write ``text`` (dedented, leading blank lines dropped) to ``path``, folders included."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def service_unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` on a laptop; fail under CI (SLUICEWAY_REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason=f"service unavailable: {reason}")


@pytest.fixture
def registry() -> Registry:
    """A fresh registry of the built-in kinds (tests may register fakes on it)."""
    return Registry()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder that is also the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


WritePipeline = Callable[[str], Path]


@pytest.fixture
def write_pipeline(project: Path) -> WritePipeline:
    """Write ``sluiceway.yaml`` (dedented) in the project and return its path."""

    def write(text: str, name: str = "sluiceway.yaml") -> Path:
        path = project / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


class Recorder:
    """An event subscriber that keeps every event, for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]


RunPipeline = Callable[..., RunResult]


@pytest.fixture
def run_pipeline(registry: Registry) -> RunPipeline:
    """Load a pipeline file and run it in-process; returns the run result."""

    def run(
        path: Path, *, select: list[str] | None = None, recorder: Recorder | None = None
    ) -> RunResult:
        pipeline: LoadedPipeline = registry.load(path)
        bus = EventBus()
        if recorder is not None:
            bus.subscribe(recorder)
        return PipelineRunner(pipeline, registry=registry, bus=bus).run(select)

    return run

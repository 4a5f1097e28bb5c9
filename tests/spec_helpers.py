"""Helpers shared by the spec tests: load a file that must fail, and read its issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError, ConfigIssue
from sluiceway.engine.registry import Registry


def problems(registry: Registry, path: Path) -> list[ConfigIssue]:
    """The issues of a file that must not load (no environment variables are set)."""
    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})
    return caught.value.issues


def places(issues: list[ConfigIssue]) -> list[tuple[int | None, int | None, str]]:
    return [(issue.line, issue.column, issue.path) for issue in issues]


def single(registry: Registry, path: Path) -> ConfigIssue:
    issues = problems(registry, path)
    assert len(issues) == 1, issues
    return issues[0]


def csv_source(extra: str) -> str:
    """A pipeline whose one csv source has ``extra`` as its line 6 (column 5)."""
    return (
        f"pipeline: shop\nsources:\n  orders:\n    type: csv\n    path: orders.csv\n    {extra}\n"
    )

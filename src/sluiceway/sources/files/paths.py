"""Expand a file source's ``path`` (a path, a glob, or a list of them) into concrete files."""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from pathlib import Path

from sluiceway.core.errors import SourceNotFoundError

_GLOB_CHARS = frozenset("*?[")


def expand(patterns: str | Sequence[str], resolve: Callable[[str], Path]) -> list[Path]:
    """Every file the patterns match, sorted within each pattern, without repeats.

    A pattern that matches nothing is an error: a typo must not look like "no new data".
    """
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    files: list[Path] = []
    seen: set[Path] = set()
    for pattern in items:
        absolute = resolve(pattern)
        if _GLOB_CHARS.isdisjoint(pattern):
            matches = [absolute] if absolute.is_file() else []
            if absolute.is_dir():
                raise SourceNotFoundError(
                    f"{pattern} is a directory",
                    hint=f"Use a glob to read the files in it, e.g. {pattern.rstrip('/')}/*.csv",
                )
        else:
            matches = sorted(
                Path(p) for p in glob.glob(str(absolute), recursive=True) if Path(p).is_file()
            )
        if not matches:
            what = "No file matches" if not _GLOB_CHARS.isdisjoint(pattern) else "File not found:"
            raise SourceNotFoundError(
                f"{what} {pattern} (looked in {absolute.parent})",
                hint="Check the `path` of this source; relative paths resolve against the "
                "pipeline file's folder.",
            )
        for match in matches:
            if match not in seen:
                seen.add(match)
                files.append(match)
    return files

"""Run the real ``sluiceway`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "sluiceway"]


def sluiceway(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``sluiceway ARGS`` in ``cwd``; output is captured as text, never raises on failure.

    ``input`` is typed on stdin (answers to prompts); without it stdin is empty."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full_env.pop("SLUICEWAY_DEBUG", None)
    return subprocess.run(
        [*COMMAND, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input if input is not None else "",
    )

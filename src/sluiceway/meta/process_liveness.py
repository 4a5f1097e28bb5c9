"""Is a process on this machine still alive? Used to find runs whose process was killed."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def process_is_alive(pid: int) -> bool:
    """Whether process ``pid`` on this machine is alive.

    A zombie (killed, not yet waited for by its parent) counts as dead. Where this cannot be
    told safely the answer is "alive", because the caller marks dead processes' runs failed and
    a wrong "dead" would fail a run that is still working.
    """
    if pid <= 0:
        # 0 and negative pids address process groups in os.kill, never one process.
        return False
    if sys.platform == "win32":
        # os.kill(pid, 0) on Windows sends CTRL_C_EVENT instead of probing; not worth the risk.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # It exists and belongs to another user.
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # Linux only; elsewhere /proc is absent and a zombie passes for alive until it is reaped.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    # The command name in parentheses may contain spaces and ")"; the state follows the last ")".
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in {"Z", "X"}

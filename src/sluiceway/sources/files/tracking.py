"""Which files of a glob a load has not read yet: new files, and changed ones by policy.

Each file a load reads is remembered by path, size, modification time and SHA-256 of its bytes,
in the source's state (``files``), committed with the rows. On the next run a file whose size
and mtime are unchanged is taken as read (no hashing); one whose size or mtime moved is hashed,
and is *changed* only if its bytes differ (a ``touch`` is not a change). Changed files follow
the source's policy: ``reload`` reads them again, ``skip`` leaves them, ``fail`` stops the load
naming them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sluiceway.core.errors import DataError
from sluiceway.sources.base import NothingNew

FILES_STATE = "files"
ChangedPolicy = Literal["reload", "skip", "fail"]
_CHUNK = 1 << 20


class NoNewFiles(NothingNew):
    """Every file the source matches was read already: the load has nothing to do."""

    def __init__(self, skipped: int) -> None:
        super().__init__(f"no new or changed files ({skipped} already loaded)")
        self.skipped = skipped


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FileTracker:
    """Filters a source's files against what earlier loads read, and records this load's."""

    changed: ChangedPolicy
    known: dict[str, dict[str, Any]]  # path → {size, mtime_ns, sha256}
    # Paths under ``base`` (the pipeline's folder) are kept relative to it, so a project that
    # moves, or is reached through another path, still knows its files.
    base: Path | None = None
    read: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: int = 0
    new: int = 0
    reloaded: list[str] = field(default_factory=list)

    @classmethod
    def from_state(
        cls, stored: str | None, changed: ChangedPolicy, *, base: Path | None = None
    ) -> FileTracker:
        tracker = cls(changed=changed, known={}, base=base.resolve() if base else None)
        kept: dict[str, dict[str, Any]] = json.loads(stored) if stored else {}
        # Earlier versions kept absolute paths: those under the base read as relative ones.
        tracker.known = {tracker.key(Path(path)): facts for path, facts in kept.items()}
        return tracker

    def key(self, path: Path) -> str:
        """How a file is named in the state: relative to the base when under it."""
        if self.base is not None and path.is_absolute():
            for candidate in (path, path.resolve()):
                if candidate.is_relative_to(self.base):
                    return candidate.relative_to(self.base).as_posix()
        return str(path)

    def select(self, files: Sequence[Path]) -> list[Path]:
        """The files this load reads; raises :class:`NoNewFiles` when there are none."""
        chosen: list[Path] = []
        changed: list[str] = []
        for path in files:
            key = self.key(path)
            stat = path.stat()
            facts: dict[str, Any] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            before = self.known.get(key)
            if before is not None and all(before.get(k) == v for k, v in facts.items()):
                self.skipped += 1
                continue
            facts["sha256"] = sha256(path)
            if before is None:
                self.new += 1
            elif before.get("sha256") == facts["sha256"]:
                # Same bytes, new mtime (a touch): not read, its new facts remembered.
                self.read[key] = facts
                self.skipped += 1
                continue
            else:
                changed.append(key)
                if self.changed == "skip":
                    self.skipped += 1
                    continue
                self.reloaded.append(key)
            self.read[key] = facts
            chosen.append(path)
        if changed and self.changed == "fail":
            raise DataError(
                f"{len(changed)} file(s) already loaded have changed: {', '.join(changed[:5])}",
                hint="Set `incremental: {files: true, changed: reload}` to load them again "
                "(with `write: merge` their rows replace the old ones), or `skip`.",
            )
        if not chosen:
            raise NoNewFiles(self.skipped)
        return chosen

    def state(self) -> str | None:
        """Every file known after this load, as JSON text (``None``: nothing changed)."""
        if not self.read:
            return None
        return json.dumps({**self.known, **self.read}, sort_keys=True)

    def notes(self) -> tuple[str, ...]:
        out = []
        if self.new:
            out.append(f"{self.new} new file(s) read")
        if self.reloaded:
            out.append(f"{len(self.reloaded)} changed file(s) read again")
        if self.skipped:
            out.append(f"{self.skipped} file(s) already loaded skipped")
        return tuple(out)

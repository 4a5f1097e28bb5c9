"""Where each value of a loaded pipeline came from, for ``sluiceway config show``.

A value is written in the file (``sluiceway.yaml:12``), possibly by the selected profile
(``profile prod``), possibly through references (``env SHOP_DB``, ``secrets file: db``), or it
is not written at all and is a model's ``default``. Holds names and positions, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from sluiceway.spec.interpolate import Reference
from sluiceway.spec.yaml_positions import Path, Position


@dataclass(frozen=True)
class Provenance:
    file: str  # the file as shown in messages
    secrets_file: FilePath
    positions: Mapping[Path, Position] = field(repr=False)
    mappings: frozenset[Path] = field(repr=False)  # paths whose value is a mapping
    profile: str | None = None
    selected_by: str | None = None  # "argument", "SLUICEWAY_PROFILE" or "default"
    defined_profiles: tuple[str, ...] = ()
    from_profile: frozenset[Path] = frozenset()
    references: Mapping[Path, tuple[Reference, ...]] = field(default_factory=dict, repr=False)
    masked: frozenset[Path] = frozenset()  # values to mask although their field is not secret

    def origin(self, path: Path) -> str:
        """``sluiceway.yaml:12, profile prod, env SHOP_DB``; ``default`` when not written."""
        probe = path
        while probe not in self.positions and probe:
            probe = probe[:-1]
        if probe != path and (probe in self.mappings or probe not in self.positions):
            return "default"
        parts = [f"{self.file}:{self.positions[probe].line}"]
        if any(probe[:i] in self.from_profile for i in range(1, len(probe) + 1)):
            parts.append(f"profile {self.profile}")
        parts.extend(ref.describe() for ref in self.references.get(probe, ()))
        return ", ".join(parts)

    def is_masked(self, path: Path) -> bool:
        return any(path[:i] in self.masked for i in range(1, len(path) + 1))


def mapping_paths(data: Any, path: Path = ()) -> set[Path]:
    """The path of every mapping inside ``data`` (the root included)."""
    found: set[Path] = set()
    if isinstance(data, dict):
        found.add(path)
        for key, value in data.items():
            found |= mapping_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found |= mapping_paths(value, (*path, index))
    return found

"""What every entity writer shares during one run: settings, the clock, and the ledger.

The :class:`Ledger` collects, while chunks are written, the keys of every damaged row and every
file written, so the manifest is assembled from what actually happened rather than from what was
planned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sluiceway.demo.defects import state_code_of_variant
from sluiceway.demo.draws import Draws
from sluiceway.demo.manifest import DefectRecord, FileRecord, VariantRecord
from sluiceway.demo.plan import DefectSpec, Sizes
from sluiceway.demo.timeline import Timeline

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class Ledger:
    """Keys of damaged rows and records of written files, gathered as chunks are written."""

    keys: dict[str, list[npt.NDArray[np.int64]]] = field(default_factory=dict)
    pairs: dict[str, list[npt.NDArray[np.int64]]] = field(default_factory=dict)
    variants: dict[str, Counter[str]] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)

    def add_keys(self, defect_id: str, keys: npt.ArrayLike) -> None:
        values = np.asarray(keys, dtype=np.int64)
        self.keys.setdefault(defect_id, []).append(values.copy())

    def add_pairs(self, defect_id: str, originals: npt.ArrayLike, copies: npt.ArrayLike) -> None:
        stacked = np.stack(
            [np.asarray(originals, dtype=np.int64), np.asarray(copies, dtype=np.int64)], axis=1
        )
        self.pairs.setdefault(defect_id, []).append(stacked)

    def add_variants(self, defect_id: str, values: list[str]) -> None:
        self.variants.setdefault(defect_id, Counter()).update(values)

    def add_file(self, record: FileRecord) -> None:
        self.files[record.path] = record

    def record(self, spec: DefectSpec) -> DefectRecord:
        """The manifest entry for one defect, keys sorted."""
        keys: list[int] | list[tuple[int, int]]
        if spec.id in self.pairs:
            pairs = np.concatenate(self.pairs[spec.id])
            pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
            keys = [(int(a), int(b)) for a, b in pairs]
        else:
            parts = self.keys.get(spec.id, [])
            ids = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
            keys = [int(k) for k in ids]
        variants = None
        if spec.id in self.variants:
            variants = {
                text: VariantRecord(canonical=state_code_of_variant(text), count=count)
                for text, count in sorted(self.variants[spec.id].items())
            }
        return DefectRecord(
            id=spec.id,
            file=spec.file,
            columns=list(spec.columns),
            description=spec.description,
            count=len(keys),
            keys=keys,
            variants=variants,
        )


@dataclass(frozen=True)
class Context:
    """Settings and shared state for one call of :func:`~sluiceway.demo.generate.generate`."""

    out_dir: Path
    seed: int
    chunk_rows: int
    draws: Draws
    timeline: Timeline
    sizes: Sizes
    ledger: Ledger
    progress: ProgressCallback | None

    def report(self, entity: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(entity, done, total)

    def spans(self, total: int) -> list[tuple[int, int]]:
        """[lo, hi) ranges of at most ``chunk_rows`` covering ``range(total)``."""
        return [(lo, min(total, lo + self.chunk_rows)) for lo in range(0, total, self.chunk_rows)]

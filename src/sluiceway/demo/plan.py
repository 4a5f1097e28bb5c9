"""How much to generate and which rows get which defect.

Sizes scale linearly from the scale-1 shop (20k customers, 2k products, 100k orders). Every defect
has a rate; its exact count is ``max(1, round(rate * rows))``, and its rows are drawn once, up
front, as disjoint sets of row ordinals (so a row carries at most one defect and the counts add
up). Drawing needs memory proportional to the number of defective rows only, never to the
entity, which keeps scale 100 in flat memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sluiceway.demo.draws import BoolArray, I64Array

Codes = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class DefectSpec:
    """One kind of deliberate damage: where it goes and how often."""

    id: str
    file: str
    columns: tuple[str, ...]
    description: str
    rate: float


@dataclass(frozen=True, slots=True)
class Sizes:
    """Row counts for one scale (before duplicates are added)."""

    customers: int
    products: int
    orders: int
    web_events: int
    drop2_customer_updates: int
    drop2_new_customers: int
    drop2_new_orders: int
    drop2_late_updates: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        def rows(at_scale_1: float) -> int:
            return max(1, round(at_scale_1 * scale))

        return cls(
            customers=rows(20_000),
            products=rows(2_000),
            orders=rows(100_000),
            web_events=rows(300_000),
            drop2_customer_updates=rows(1_000),
            drop2_new_customers=rows(400),
            drop2_new_orders=rows(2_000),
            drop2_late_updates=rows(1_000),
        )


def defect_counts(specs: tuple[DefectSpec, ...], rows: int) -> list[int]:
    """Exact count per defect: ``max(1, round(rate * rows))``.

    Tiny entities cannot host every defect on its own rows: at most half the rows are damaged,
    handed out in declaration order, so the last defects of a very small scale may get 0.
    """
    wanted = [max(1, round(spec.rate * rows)) for spec in specs]
    budget = rows // 2
    counts: list[int] = []
    for count in wanted:
        granted = min(count, budget)
        counts.append(granted)
        budget -= granted
    return counts


def entity_rng(seed: int, entity: str) -> np.random.Generator:
    """A sequential generator for one entity's up-front choices, independent of the others."""
    tag = int.from_bytes(hashlib.blake2b(entity.encode(), digest_size=4).digest(), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, tag])))


def sample_distinct(rng: np.random.Generator, population: int, size: int) -> I64Array:
    """``size`` distinct integers from ``[0, population)`` in random order, in O(size) memory."""
    if size <= 0:
        return np.empty(0, dtype=np.int64)
    if size * 4 >= population:
        return rng.permutation(population)[:size].astype(np.int64)
    chosen = np.empty(0, dtype=np.int64)
    while chosen.size < size:
        extra = rng.integers(0, population, size=(size - chosen.size) * 2 + 16, dtype=np.int64)
        chosen = np.unique(np.concatenate([chosen, extra]))
    # np.unique sorts; a random subset of the sorted candidates restores a random order.
    return rng.choice(chosen, size=size, replace=False).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Picks:
    """Which row ordinals of one entity carry which defect (disjoint, sorted by ordinal)."""

    specs: tuple[DefectSpec, ...]
    ordinals: I64Array
    codes: Codes

    @classmethod
    def draw(cls, seed: int, entity: str, specs: tuple[DefectSpec, ...], population: int) -> Picks:
        """Choose each defect's rows among ``population`` row ordinals."""
        counts = defect_counts(specs, population)
        rng = entity_rng(seed, entity)
        chosen = sample_distinct(rng, population, sum(counts))
        codes = np.repeat(np.arange(len(specs), dtype=np.int16), counts)
        order = np.argsort(chosen, kind="stable")
        return cls(specs, chosen[order], codes[order])

    def code(self, defect_id: str) -> int:
        for index, spec in enumerate(self.specs):
            if spec.id == defect_id:
                return index
        raise KeyError(defect_id)

    def ordinals_of(self, defect_id: str) -> I64Array:
        """All ordinals carrying ``defect_id``, sorted."""
        return np.asarray(self.ordinals[self.codes == self.code(defect_id)], dtype=np.int64)

    def offsets(self, lo: int, hi: int, defect_id: str) -> I64Array:
        """Positions (ordinal - lo) within [lo, hi) that carry ``defect_id``, sorted."""
        start, stop = np.searchsorted(self.ordinals, [lo, hi])
        window = self.ordinals[start:stop]
        return np.asarray(
            window[self.codes[start:stop] == self.code(defect_id)] - lo, dtype=np.int64
        )

    def damaged(self, ordinals: npt.ArrayLike) -> BoolArray:
        """Whether each ordinal carries any defect."""
        values = np.asarray(ordinals, dtype=np.int64)
        index = np.searchsorted(self.ordinals, values)
        index = np.minimum(index, max(len(self.ordinals) - 1, 0))
        if len(self.ordinals) == 0:
            return np.zeros(values.shape, dtype=np.bool_)
        return np.asarray(self.ordinals[index] == values)

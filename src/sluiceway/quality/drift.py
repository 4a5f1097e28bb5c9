"""Distribution drift between loads, computed from their profiles (no SQL, no raw rows).

A numeric column's profile keeps a quantile sketch: the 0%, 1%, ..., 100% quantiles (101
points, see :mod:`sluiceway.quality.profile`). A sketch is read as a piecewise-linear
cumulative distribution function (CDF) through the points ``(sketch[k], k / 100)``; repeated
values (a discrete column) make it jump. Everything here works on that CDF:

- :func:`psi`, the population stability index over bins cut at the reference's deciles;
- :func:`ks`, the Kolmogorov-Smirnov statistic (largest CDF gap);
- :func:`pool_sketches`, several loads' sketches merged into one reference, weighted by rows;
- :func:`category_shift`, for text: the largest change of one value's share.

Degenerate inputs never raise: an empty sketch means "no evidence" and gives 0.0.

Example::

    >>> ref = [float(k) for k in range(101)]
    >>> psi(ref, ref), ks(ref, ref)
    (0.0, 0.0)
    >>> round(ks(ref, [k + 50.0 for k in range(101)]), 2)
    0.5
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

# Shares below this are floored before the logarithm: a bin empty on one side would make PSI
# infinite, and one stray row should not count as a catastrophe.
PSI_EPSILON = 1e-4
SKETCH_POINTS = 101


def cdf(sketch: Sequence[float], x: float, *, left: bool = False) -> float:
    """P(X <= x) read off a sketch (P(X < x) with ``left``), interpolating linearly.

    A sketch of ``m + 1`` points holds the quantiles ``0, 1/m, ..., 1``. At a value the sketch
    repeats, the right-continuous CDF jumps over the repeated points; ``left`` gives the value
    just before the jump. An empty sketch gives 0.0.
    """
    points = len(sketch)
    if points == 0:
        return 0.0
    if points == 1:
        return 1.0 if (x > sketch[0] or (x == sketch[0] and not left)) else 0.0
    steps = points - 1
    # below: the sketch points strictly below x (left) or at most x (right)
    below = bisect_left(sketch, x) if left else bisect_right(sketch, x)
    if below == 0:
        return 0.0
    if below == points:
        return 1.0
    lo, hi = sketch[below - 1], sketch[below]
    # lo <= x < hi (right) or lo < x <= hi (left): hi > lo, so the division is safe.
    return (below - 1 + (x - lo) / (hi - lo)) / steps


def _edges(reference: Sequence[float], bins: int) -> list[float]:
    """The reference's interior quantiles at 1/bins, ..., (bins-1)/bins, without repeats."""
    steps = len(reference) - 1
    edges: list[float] = []
    for j in range(1, bins):
        position = j * steps / bins
        low = math.floor(position)
        high = min(low + 1, steps)
        value = reference[low] + (position - low) * (reference[high] - reference[low])
        if not edges or value > edges[-1]:
            edges.append(value)
    return edges


def _shares(sketch: Sequence[float], edges: Sequence[float]) -> list[float]:
    """The sketch's probability in (-inf, e1], (e1, e2], ..., (e_last, +inf)."""
    cumulative = [0.0, *(cdf(sketch, e) for e in edges), 1.0]
    return [max(b - a, 0.0) for a, b in itertools.pairwise(cumulative)]


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` (both sketches).

    Bins are cut at the reference's quantiles ``1/bins, ..., (bins-1)/bins`` (its deciles by
    default), the outer bins open-ended so that values beyond the reference's range count;
    repeated cut points collapse into one. Each side's share per bin comes from its own
    sketch's CDF, floored at :data:`PSI_EPSILON`; PSI = sum((c - r) * ln(c / r)). Common
    reading: below 0.1 stable, 0.1-0.2 moderate shift, above 0.2 a significant shift.
    Returns 0.0 when either sketch is empty.
    """
    if not reference or not current or bins < 1:
        return 0.0
    edges = _edges(reference, bins)
    total = 0.0
    for ref_share, cur_share in zip(
        _shares(reference, edges), _shares(current, edges), strict=True
    ):
        r, c = max(ref_share, PSI_EPSILON), max(cur_share, PSI_EPSILON)
        total += (c - r) * math.log(c / r)
    return total


def ks(reference_sketch: Sequence[float], current_sketch: Sequence[float]) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the two sketches' CDFs.

    The CDFs are piecewise linear between sketch points, so the supremum is reached at a
    sketch point of either side (or just before one, where a CDF jumps); both limits are
    checked. In [0, 1]; symmetric in its arguments; 0.0 when either sketch is empty.
    """
    if not reference_sketch or not current_sketch:
        return 0.0
    largest = 0.0
    for x in {*reference_sketch, *current_sketch}:
        for left in (False, True):
            gap = abs(cdf(reference_sketch, x, left=left) - cdf(current_sketch, x, left=left))
            largest = max(largest, gap)
    return min(largest, 1.0)


def pool_sketches(sketches: Sequence[tuple[Sequence[float], int]]) -> list[float]:
    """One 101-point sketch for several loads together, each weighted by its row count.

    The pooled CDF is the row-weighted mixture of the loads' CDFs; its quantiles are found by
    inverting that piecewise-linear curve. Empty sketches and loads of no rows are left out;
    when every weight is zero the loads count equally. Nothing to pool gives ``[]``.
    """
    usable = [(list(s), max(int(w), 0)) for s, w in sketches if len(s) > 0]
    if not usable:
        return []
    if sum(w for _, w in usable) == 0:
        usable = [(s, 1) for s, _ in usable]
    usable = [(s, w) for s, w in usable if w > 0]
    total = sum(w for _, w in usable)

    def mixture(x: float, *, left: bool) -> float:
        return sum(w * cdf(s, x, left=left) for s, w in usable) / total

    # The mixture is linear between consecutive breakpoints and may jump at one: trace it as
    # (x, F) points, a jump as two points at the same x.
    curve: list[tuple[float, float]] = []
    for x in sorted({v for s, _ in usable for v in s}):
        curve += [(x, mixture(x, left=True)), (x, mixture(x, left=False))]
    pooled = [curve[0][0]]
    for k in range(1, SKETCH_POINTS - 1):
        pooled.append(_invert(curve, k / (SKETCH_POINTS - 1)))
    pooled.append(curve[-1][0])
    return pooled


def _invert(curve: Sequence[tuple[float, float]], p: float) -> float:
    """The smallest x where the traced CDF reaches ``p``, interpolating within a segment."""
    index = bisect_left([f for _, f in curve], p)
    if index == 0:
        return curve[0][0]
    if index == len(curve):
        return curve[-1][0]
    (x0, f0), (x1, f1) = curve[index - 1], curve[index]
    if f1 == f0 or x1 == x0:
        return x1
    # Clamped: rounding must not step outside the segment (the result would not be sorted).
    return min(max(x0 + (p - f0) / (f1 - f0) * (x1 - x0), x0), x1)


def category_shift(
    reference: Mapping[str, float], current: Mapping[str, float]
) -> tuple[float, str | None]:
    """The largest absolute change of one value's share, and that value.

    Shares come from profiles' top values; a value missing on one side has share 0 there.
    Ties go to the value that sorts first. ``(0.0, None)`` when no share changed.
    """
    best: tuple[float, str | None] = (0.0, None)
    for value in sorted({*reference, *current}):
        change = abs(float(current.get(value, 0.0)) - float(reference.get(value, 0.0)))
        if change > best[0]:
            best = (change, value)
    return best

"""Drift statistics from quantile sketches, checked against the same statistics on raw samples."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.quality.check import check_table
from sluiceway.quality.drift import category_shift, cdf, ks, pool_sketches, psi
from sluiceway.quality.profile import profile_table
from sluiceway.quality.sql import DuckDBRunner

pytestmark = pytest.mark.unit

FloatArray = np.ndarray[tuple[int], np.dtype[np.float64]]
N = 20_000


def sketch_of(sample: FloatArray) -> list[float]:
    """The 101-point sketch a profile holds (numpy's linear quantiles = quantile_cont)."""
    return [float(v) for v in np.quantile(sample, np.arange(101) / 100)]


def exact_ks(a: FloatArray, b: FloatArray) -> float:
    """The two-sample KS statistic from the raw samples."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def exact_psi(reference: FloatArray, current: FloatArray, bins: int = 10) -> float:
    """PSI from the raw values, bins (-inf, e1], (e1, e2], ..., (e9, inf) at the reference's
    deciles (repeated deciles merged), shares floored at 1e-4."""
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))

    def shares(values: FloatArray) -> FloatArray:
        below = np.searchsorted(np.sort(values), edges, side="right") / len(values)
        return np.maximum(np.diff(np.concatenate([[0.0], below, [1.0]])), 1e-4)

    r, c = shares(reference), shares(current)
    return float(np.sum((c - r) * np.log(c / r)))


def samples() -> dict[str, FloatArray]:
    rng = np.random.default_rng(42)
    return {
        "normal": rng.normal(0.0, 1.0, N),
        "normal_again": rng.normal(0.0, 1.0, N),
        "shifted": rng.normal(0.5, 1.0, N),
        "wider": rng.normal(0.0, 1.5, N),
        "skewed": rng.exponential(1.0, N) - 1.0,
        "discrete": rng.integers(0, 5, N).astype(float),
        "discrete_shifted": rng.integers(1, 6, N).astype(float),
    }


SAMPLES = samples()
PAIRS = [
    ("normal", "normal_again"),
    ("normal", "shifted"),
    ("normal", "wider"),
    ("normal", "skewed"),
    ("skewed", "wider"),
]


@pytest.mark.parametrize(("left", "right"), PAIRS)
def test_ks_from_sketches_is_close_to_ks_from_the_rows(left: str, right: str) -> None:
    a, b = SAMPLES[left], SAMPLES[right]
    assert ks(sketch_of(a), sketch_of(b)) == pytest.approx(exact_ks(a, b), abs=0.02)


@pytest.mark.parametrize(("left", "right"), [*PAIRS, ("discrete", "discrete_shifted")])
def test_psi_from_sketches_is_close_to_psi_from_the_rows(left: str, right: str) -> None:
    a, b = SAMPLES[left], SAMPLES[right]
    expected = exact_psi(a, b)
    assert psi(sketch_of(a), sketch_of(b)) == pytest.approx(expected, rel=0.1, abs=0.02)


def test_same_distribution_is_stable_and_a_shift_is_not() -> None:
    normal = sketch_of(SAMPLES["normal"])
    assert psi(normal, normal) == 0.0
    assert ks(normal, normal) == 0.0
    assert psi(normal, sketch_of(SAMPLES["normal_again"])) < 0.01
    assert psi(normal, sketch_of(SAMPLES["shifted"])) > 0.2
    assert ks(normal, sketch_of(SAMPLES["shifted"])) > 0.15


def test_discrete_columns_jump_where_values_repeat() -> None:
    discrete = sketch_of(SAMPLES["discrete"])
    shifted = sketch_of(SAMPLES["discrete_shifted"])
    exact = exact_ks(SAMPLES["discrete"], SAMPLES["discrete_shifted"])
    assert ks(discrete, shifted) == pytest.approx(exact, abs=0.02)
    # P(X <= 2) and P(X < 2) for values uniform on 0..4
    assert cdf(discrete, 2.0) == pytest.approx(0.6, abs=0.02)
    assert cdf(discrete, 2.0, left=True) == pytest.approx(0.4, abs=0.02)


def test_cdf_interpolates_between_sketch_points() -> None:
    sketch = [float(k) for k in range(101)]
    assert cdf(sketch, 50.5) == pytest.approx(0.505)
    assert (cdf(sketch, -1.0), cdf(sketch, 0.0), cdf(sketch, 100.0), cdf(sketch, 1e9)) == (
        0.0,
        0.0,
        1.0,
        1.0,
    )
    assert (cdf([], 1.0), cdf([3.0], 3.0), cdf([3.0], 3.0, left=True)) == (0.0, 1.0, 0.0)


def test_degenerate_inputs_do_not_raise() -> None:
    constant = [7.0] * 101
    other = [9.0] * 101
    assert (psi(constant, constant), ks(constant, constant)) == (0.0, 0.0)
    assert ks(constant, other) == 1.0
    assert 0.0 < psi(constant, other) < 100.0
    assert (psi([], constant), psi(constant, []), ks([], constant), ks(constant, [])) == (
        0.0,
        0.0,
        0.0,
        0.0,
    )
    assert psi([1.0], [1.0]) == 0.0


def test_pooled_sketch_matches_the_pooled_rows() -> None:
    rng = np.random.default_rng(1)
    loads = [rng.normal(0.0, 1.0, 3_000), rng.normal(2.0, 0.5, 9_000), rng.exponential(1.0, 500)]
    pooled = pool_sketches([(sketch_of(load), len(load)) for load in loads])
    everything = np.sort(np.concatenate(loads))
    assert len(pooled) == 101
    assert (pooled[0], pooled[-1]) == (everything[0], everything[-1])
    ranks = np.searchsorted(everything, np.array(pooled), side="right") / len(everything)
    assert np.max(np.abs(ranks - np.arange(101) / 100)[1:-1]) < 0.015
    assert ks(pooled, sketch_of(everything)) < 0.02


def test_pooling_weights_and_degenerate_loads() -> None:
    one = sketch_of(SAMPLES["normal"])
    assert pool_sketches([(one, 10)]) == pytest.approx(one, abs=1e-9)
    assert pool_sketches([]) == []
    assert pool_sketches([([], 10)]) == []
    # a load of no rows does not count; with no rows anywhere, loads count equally
    assert pool_sketches([(one, 10), ([100.0] * 101, 0)]) == pytest.approx(one, abs=1e-9)
    even = pool_sketches([([0.0] * 101, 0), ([1.0] * 101, 0)])
    assert cdf(even, 0.0) == pytest.approx(0.5, abs=0.011)


def test_category_shift_finds_the_largest_change() -> None:
    before = {"CA": 0.5, "NY": 0.3, "TX": 0.2}
    after = {"CA": 0.45, "NY": 0.1, "WA": 0.25}
    change, value = category_shift(before, after)
    assert value == "WA"  # from nothing to a quarter; NY and TX moved by 0.2
    assert change == pytest.approx(0.25)
    assert category_shift(before, before) == (0.0, None)
    assert category_shift({}, {}) == (0.0, None)
    assert category_shift({"a": 0.1}, {"b": 0.1}) == (0.1, "a")


sketches = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=101,
).map(sorted)


@settings(max_examples=200, deadline=None)
@given(sketches, sketches)
def test_properties(reference: list[float], current: list[float]) -> None:
    assert psi(reference, current) >= 0.0
    assert psi(reference, reference) == 0.0
    distance = ks(reference, current)
    assert 0.0 <= distance <= 1.0
    assert distance == ks(current, reference)
    assert ks(reference, reference) == 0.0
    pooled = pool_sketches([(reference, 3), (current, 1)])
    assert len(pooled) == 101
    assert pooled == sorted(pooled)
    assert pooled[0] == min(reference[0], current[0])
    assert pooled[-1] == max(reference[-1], current[-1])


def _profiles_of(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list[dict[str, Any]]:
    runner = DuckDBRunner(con)
    return [profile_table(runner, t, table=t).to_dict() for t in tables]


def test_the_drift_rule_compares_a_load_with_the_earlier_loads() -> None:
    """Three earlier loads of the same distributions; one load shifted, one not."""
    con = duckdb.connect()
    rng = np.random.default_rng(7)
    kinds = ["a", "b", "c", "d"]

    def make(name: str, mean: float, share_a: float) -> None:
        amounts = rng.normal(mean, 10, 5_000)
        weights = [share_a, *([(1 - share_a) / 3] * 3)]
        kind = rng.choice(kinds, size=5_000, p=weights)
        frame = pa.table({"amount": amounts, "kind": kind})
        con.register(f"{name}_arrow", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")

    for i in range(3):
        make(f"ref{i}", 100.0, 0.25)
    make("stable", 100.0, 0.25)
    make("shifted", 115.0, 0.55)
    earlier = _profiles_of(con, ["ref2", "ref1", "ref0"])
    rules = [
        {"rule": "distribution_drift", "column": "amount", "window": 3, "max_psi": 0.2},
        {"rule": "distribution_drift", "column": "kind", "window": 3, "max_share_change": 0.1},
    ]
    asked: list[int] = []

    def history(n: int) -> list[dict[str, Any]]:
        asked.append(n)
        return earlier[:n]

    runner = DuckDBRunner(con)
    stable = {r.rule_id: r for r in check_table(runner, "stable", rules, history=history).results}
    shifted = {r.rule_id: r for r in check_table(runner, "shifted", rules, history=history).results}
    assert asked
    assert set(asked) == {3}
    assert stable["amount_distribution_drift"].passed
    assert stable["kind_distribution_drift"].passed
    assert not shifted["amount_distribution_drift"].passed
    assert "PSI" in shifted["amount_distribution_drift"].message
    assert shifted["amount_distribution_drift"].observed is not None
    assert shifted["amount_distribution_drift"].observed > 0.2
    assert not shifted["kind_distribution_drift"].passed
    assert "'a'" in shifted["kind_distribution_drift"].message


def test_the_first_load_has_nothing_to_drift_from() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x FROM range(100)")
    rule = {"rule": "distribution_drift", "column": "x", "max_psi": 0.1}
    (result,) = check_table(DuckDBRunner(con), "t", [rule], history=lambda n: []).results
    assert result.passed
    assert "no reference" in result.message

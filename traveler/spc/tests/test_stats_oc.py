"""Operating characteristics of single sampling plans.

Pa is checked against sums of binomial / hypergeometric terms written out with
math.comb (not the scipy calls the module uses), and the AOQL against a brute-force
grid. Reference: Montgomery, Introduction to SQC, 6th ed., section 15.2 (n = 89, c = 2
with N = 10,000: Pa(0.01) = 0.9397, and the AOQ/ATI formulas 15.3 and 15.4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from traveler.spc.stats import StatsInputError, aoql, oc_curve, oc_point


def binomial_pa(n: int, c: int, p: float) -> float:
    return sum(math.comb(n, d) * p**d * (1 - p) ** (n - d) for d in range(c + 1))


def hypergeometric_pa(n: int, c: int, lot: int, defective: int) -> float:
    return sum(math.comb(defective, d) * math.comb(lot - defective, n - d) for d in range(c + 1)) / math.comb(lot, n)


def test_montgomery_section_15_2_plan() -> None:
    point = oc_point(n=89, c=2, p=0.01)
    assert point["pa"] == pytest.approx(0.9397, abs=5e-5)
    assert point["pa"] == pytest.approx(binomial_pa(89, 2, 0.01), rel=1e-12)
    with_lot = oc_point(n=89, c=2, p=0.01, lot_size=10_000)
    assert with_lot["aoq"] == pytest.approx(with_lot["pa"] * 0.01 * (10_000 - 89) / 10_000, rel=1e-12)
    assert with_lot["ati"] == pytest.approx(89 + (1 - with_lot["pa"]) * (10_000 - 89), rel=1e-12)


@pytest.mark.parametrize(("n", "c"), [(13, 0), (80, 2), (125, 3), (50, 1)])
def test_binomial_pa_against_explicit_sums(n: int, c: int) -> None:
    curve = oc_curve(n=n, c=c, points=21)
    for point in curve["points"]:
        assert point["pa"] == pytest.approx(binomial_pa(n, c, point["p"]), rel=1e-10, abs=1e-14)
        assert point["aoq"] == pytest.approx(point["pa"] * point["p"], rel=1e-12, abs=1e-16)
        assert point["ati"] is None
    assert curve["points"][0]["pa"] == 1.0
    assert curve["points"][-1]["pa"] < 0.001


def test_hypergeometric_pa_with_a_lot_size() -> None:
    for p, defective in ((0.02, 10), (0.05, 25), (0.1, 50)):
        point = oc_point(n=50, c=1, p=p, lot_size=500)
        assert point["lot_defectives"] == defective
        assert point["pa"] == pytest.approx(hypergeometric_pa(50, 1, 500, defective), rel=1e-10)
        assert point["model"] == "hypergeometric"


def test_aoql_against_brute_force() -> None:
    grid = np.linspace(0, 0.2, 200_001)
    brute = max(p * binomial_pa(80, 2, p) for p in grid[::100])
    res = aoql(n=80, c=2)
    assert res["aoql"] >= brute - 1e-12
    assert res["aoql"] == pytest.approx(brute, rel=1e-4)
    assert res["aoql"] == pytest.approx(res["p_at_aoql"] * binomial_pa(80, 2, res["p_at_aoql"]), rel=1e-12)
    with_lot = aoql(n=80, c=2, lot_size=1000)
    best = max(d / 1000 * hypergeometric_pa(80, 2, 1000, d) * 920 / 1000 for d in range(0, 200))
    assert with_lot["aoql"] == pytest.approx(best, rel=1e-10)


def test_oc_input_errors() -> None:
    for kwargs, field in (
        ({"n": 0, "c": 0, "p": 0.1}, "n"),
        ({"n": 10, "c": 10, "p": 0.1}, "c"),
        ({"n": 10, "c": 1, "p": 1.5}, "p"),
        ({"n": 10, "c": 1, "p": float("nan")}, "p"),
        ({"n": 10, "c": 1, "p": 0.1, "lot_size": 5}, "lot_size"),
    ):
        with pytest.raises(StatsInputError) as err:
            oc_point(**kwargs)
        assert err.value.field == field

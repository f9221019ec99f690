"""Control charts against published worked examples.

Sources:
* Montgomery, Introduction to Statistical Quality Control, 6th ed., Table 6.3 (piston
  ring inside diameters, 25 samples of 5; also qcc's ``pistonrings`` data set, samples
  1-25), Examples 6.1 (X-bar/R) and 6.3 (X-bar/S).
* Montgomery Example 6.5 (mortgage loan processing costs, I-MR chart).
* Montgomery Example 7.1, Table 7.1 (orange juice cans, p chart; qcc's ``orangejuice``
  data set, ``qcc(D[trial], sizes=size[trial], type="p")`` documents center 0.2313333,
  LCL 0.05242755, UCL 0.4102391).
* Montgomery Example 7.3, Table 7.7 (nonconformities on 26 samples of 100 printed
  circuit boards, c chart; qcc's ``circuit`` data set, trial samples: center 19.84615,
  LCL 6.481447, UCL 33.21086).
* Montgomery Example 7.5 (personal computers, 20 samples of 5 units, u chart: u-bar 1.93,
  UCL 3.79, LCL 0.07).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traveler.spc.stats import (
    analyze,
    c_chart,
    imr_chart,
    np_chart,
    p_chart,
    u_chart,
    xbar_r_chart,
    xbar_s_chart,
)

PISTON_RINGS = [
    [74.030, 74.002, 74.019, 73.992, 74.008],
    [73.995, 73.992, 74.001, 74.011, 74.004],
    [73.988, 74.024, 74.021, 74.005, 74.002],
    [74.002, 73.996, 73.993, 74.015, 74.009],
    [73.992, 74.007, 74.015, 73.989, 74.014],
    [74.009, 73.994, 73.997, 73.985, 73.993],
    [73.995, 74.006, 73.994, 74.000, 74.005],
    [73.985, 74.003, 73.993, 74.015, 73.988],
    [74.008, 73.995, 74.009, 74.005, 74.004],
    [73.998, 74.000, 73.990, 74.007, 73.995],
    [73.994, 73.998, 73.994, 73.995, 73.990],
    [74.004, 74.000, 74.007, 74.000, 73.996],
    [73.983, 74.002, 73.998, 73.997, 74.012],
    [74.006, 73.967, 73.994, 74.000, 73.984],
    [74.012, 74.014, 73.998, 73.999, 74.007],
    [74.000, 73.984, 74.005, 73.998, 73.996],
    [73.994, 74.012, 73.986, 74.005, 74.007],
    [74.006, 74.010, 74.018, 74.003, 74.000],
    [73.984, 74.002, 74.003, 74.005, 73.997],
    [74.000, 74.010, 74.013, 74.020, 74.003],
    [73.982, 74.001, 74.015, 74.005, 73.996],
    [74.004, 73.999, 73.990, 74.006, 74.009],
    [74.010, 73.989, 73.990, 74.009, 74.014],
    [74.015, 74.008, 73.993, 74.000, 74.010],
    [73.982, 73.984, 73.995, 74.017, 74.013],
]
LOAN_COSTS = [310, 288, 297, 298, 307, 303, 294, 297, 308, 306, 294, 299, 297, 299, 314, 295, 293, 306, 301, 304]
ORANGE_JUICE_TRIAL = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]
CIRCUIT_TRIAL = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17, 15]
COMPUTER_NONCONFORMITIES = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]


def test_piston_rings_xbar_r_montgomery_example_6_1() -> None:
    chart = xbar_r_chart(subgroups=PISTON_RINGS)
    # Montgomery: sum of R = 0.581 (R-bar 0.023); x-bar-bar 74.001 (qcc prints 74.00118;
    # Montgomery's sum 1850.028 adds x-bars already rounded to 3 decimals).
    assert chart.primary.values.sum() == pytest.approx(1850.028, abs=0.002)
    assert chart.secondary is not None
    assert chart.secondary.values.sum() == pytest.approx(0.581, abs=1e-9)
    assert chart.primary.center[0] == pytest.approx(74.00118, abs=5e-6)
    r_bar = 0.581 / 25
    # Limits with the printed factors A2 = 0.577, D4 = 2.114 (to the factors' rounding).
    assert chart.primary.ucl[0] == pytest.approx(74.001176 + 0.577 * r_bar, abs=2e-5)
    assert chart.primary.lcl[0] == pytest.approx(74.001176 - 0.577 * r_bar, abs=2e-5)
    assert chart.secondary.ucl[0] == pytest.approx(2.114 * r_bar, abs=2e-5)
    assert chart.secondary.center[0] == pytest.approx(r_bar, rel=1e-12)
    assert chart.secondary.lcl[0] == 0.0
    assert chart.secondary.lcl_clipped
    assert chart.sigma == pytest.approx(r_bar / 2.326, rel=3e-4)
    # Montgomery: the process is in control in phase I.
    result = analyze(chart_type="xbar_r", data=PISTON_RINGS, rules=["N1"])
    assert [v for v in result["rules"]["violations"] if "N1" in v["rules"]] == []


def test_piston_rings_xbar_s_montgomery_example_6_3() -> None:
    chart = xbar_s_chart(subgroups=PISTON_RINGS)
    s_bar = float(chart.secondary.center[0]) if chart.secondary is not None else math.nan
    # Montgomery: s-bar = 0.0094; limits 74.001 +/- 1.427 s-bar; S chart UCL = 2.089 s-bar.
    assert round(s_bar, 4) == 0.0094
    expected_sbar = np.mean([np.std(row, ddof=1) for row in PISTON_RINGS])
    assert s_bar == pytest.approx(expected_sbar, rel=1e-12)
    assert chart.primary.ucl[0] == pytest.approx(74.001176 + 1.427 * expected_sbar, abs=2e-5)
    assert chart.primary.lcl[0] == pytest.approx(74.001176 - 1.427 * expected_sbar, abs=2e-5)
    assert chart.secondary is not None
    assert chart.secondary.ucl[0] == pytest.approx(2.089 * expected_sbar, abs=2e-6)
    assert chart.secondary.lcl[0] == 0.0
    assert chart.sigma == pytest.approx(expected_sbar / 0.9400, rel=1e-4)


def test_loan_costs_imr_montgomery_example_6_5() -> None:
    chart = imr_chart(values=LOAN_COSTS)
    # Montgomery: x-bar 300.5, MR-bar 7.79, UCL 321.22, LCL 279.78, MR chart UCL 25.45.
    assert chart.primary.center[0] == pytest.approx(300.5)
    mr = chart.secondary.values if chart.secondary is not None else None
    assert mr is not None and math.isnan(mr[0])
    assert np.nanmean(mr) == pytest.approx(148 / 19, rel=1e-12)
    # Montgomery rounds MR-bar to 7.79 before multiplying, hence the printed 321.22.
    assert chart.primary.ucl[0] == pytest.approx(321.22, abs=0.015)
    assert chart.primary.ucl[0] == pytest.approx(300.5 + 3 * (148 / 19) / 1.1283791670955126, rel=1e-12)
    assert chart.primary.lcl[0] == pytest.approx(279.78, abs=0.015)
    assert chart.secondary is not None
    assert chart.secondary.ucl[1] == pytest.approx(25.45, abs=0.01)
    assert chart.secondary.lcl[1] == 0.0
    assert chart.sigma == pytest.approx(148 / 19 / 1.128, rel=5e-4)


def test_orange_juice_p_chart_matches_qcc_documentation() -> None:
    chart = p_chart(defectives=ORANGE_JUICE_TRIAL, sample_sizes=[50] * 30)
    assert chart.primary.center[0] == pytest.approx(0.2313333, abs=5e-8)
    assert chart.primary.lcl[0] == pytest.approx(0.05242755, abs=5e-9)
    assert chart.primary.ucl[0] == pytest.approx(0.4102391, abs=5e-8)
    assert chart.sigma == pytest.approx(math.sqrt(0.2313333 * (1 - 0.2313333)), rel=1e-6)
    result = analyze(chart_type="p", data=ORANGE_JUICE_TRIAL, sample_sizes=50, rules=["N1"])
    # Montgomery: samples 15 and 23 are above the UCL.
    assert [v["index"] + 1 for v in result["rules"]["violations"]] == [15, 23]


def test_orange_juice_revised_limits_from_baseline_and_np_chart() -> None:
    # Montgomery Example 7.1 revision: samples 15 and 23 removed, p-bar = 301/1400 = 0.2150.
    kept = [d for i, d in enumerate(ORANGE_JUICE_TRIAL, start=1) if i not in (15, 23)]
    revised = p_chart(defectives=kept, sample_sizes=50)
    assert revised.primary.center[0] == pytest.approx(0.2150, abs=5e-5)
    assert revised.primary.ucl[0] == pytest.approx(0.3893, abs=5e-5)
    assert revised.primary.lcl[0] == pytest.approx(0.0407, abs=5e-5)
    frozen = p_chart(defectives=[9, 6, 12], sample_sizes=50, baseline={"center": 301 / 1400})
    assert frozen.primary.ucl[0] == pytest.approx(revised.primary.ucl[0], rel=1e-12)
    npc = np_chart(defectives=ORANGE_JUICE_TRIAL, sample_sizes=50)
    assert npc.primary.center[0] == pytest.approx(50 * 0.2313333, abs=5e-6)
    assert npc.primary.ucl[0] == pytest.approx(50 * 0.4102391, abs=5e-6)


def test_circuit_boards_c_chart_matches_qcc_documentation() -> None:
    chart = c_chart(counts=CIRCUIT_TRIAL)
    assert chart.primary.center[0] == pytest.approx(19.84615, abs=5e-6)
    assert chart.primary.lcl[0] == pytest.approx(6.481447, abs=5e-7)
    assert chart.primary.ucl[0] == pytest.approx(33.21086, abs=5e-6)
    result = analyze(chart_type="c", data=CIRCUIT_TRIAL, rules="we")
    # Montgomery: sample 6 (5 nonconformities) below the LCL and sample 20 (39) above.
    beyond = [v["index"] + 1 for v in result["rules"]["violations"] if "WE1" in v["rules"]]
    assert beyond == [6, 20]


def test_computers_u_chart_montgomery_example_7_5() -> None:
    chart = u_chart(counts=COMPUTER_NONCONFORMITIES, sample_sizes=5)
    assert chart.primary.center[0] == pytest.approx(1.93)
    assert chart.primary.ucl[0] == pytest.approx(3.79, abs=0.005)
    assert chart.primary.lcl[0] == pytest.approx(0.07, abs=0.005)


def test_variable_sample_sizes_give_per_point_limits_for_p_and_u() -> None:
    d = [3, 5, 2, 8]
    n = [100, 200, 50, 400]
    chart = p_chart(defectives=d, sample_sizes=n)
    p_bar = sum(d) / sum(n)
    for i in range(4):
        half = 3 * math.sqrt(p_bar * (1 - p_bar) / n[i])
        assert chart.primary.ucl[i] == pytest.approx(p_bar + half, rel=1e-12)
        assert chart.primary.lcl[i] == pytest.approx(max(0.0, p_bar - half), rel=1e-12, abs=1e-15)
    out = chart.to_dict()
    assert isinstance(out["primary"]["ucl"], list) and out["primary"]["limits_vary"]
    u = u_chart(counts=[4, 9, 2], sample_sizes=[2.0, 5.0, 1.0])
    u_bar = 15 / 8
    assert u.primary.ucl[2] == pytest.approx(u_bar + 3 * math.sqrt(u_bar / 1), rel=1e-12)


def _ragged() -> list[list[float]]:
    rng = np.random.default_rng(7)
    sizes = [5, 3, 5, 4, 6, 5, 2, 5]
    return [list(np.round(rng.normal(10, 2, k), 3)) for k in sizes]


def test_unequal_subgroups_xbar_s_weighted_sbar_and_per_point_limits() -> None:
    groups = _ragged()

    # Independent computation with plain loops and scipy-free gamma.
    def c4(n: int) -> float:
        return math.sqrt(2 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2)

    total = sum(sum(g) for g in groups)
    grand = total / sum(len(g) for g in groups)
    num = den = 0.0
    for g in groups:
        k = len(g)
        mean = sum(g) / k
        s = math.sqrt(sum((v - mean) ** 2 for v in g) / (k - 1))
        h = c4(k) ** 2 / (1 - c4(k) ** 2)
        num += h * s / c4(k)
        den += h
    sigma = num / den
    chart = xbar_s_chart(subgroups=groups)
    assert chart.sigma == pytest.approx(sigma, rel=1e-12)
    for i, g in enumerate(groups):
        k = len(g)
        assert chart.primary.center[i] == pytest.approx(grand, rel=1e-12)
        assert chart.primary.ucl[i] == pytest.approx(grand + 3 * sigma / math.sqrt(k), rel=1e-12)
        assert chart.secondary is not None
        b6 = c4(k) + 3 * math.sqrt(1 - c4(k) ** 2)
        assert chart.secondary.ucl[i] == pytest.approx(b6 * sigma, rel=1e-12)
    pooled = xbar_s_chart(subgroups=groups, sigma_method="pooled")
    dof = sum(len(g) - 1 for g in groups)
    sp = math.sqrt(sum((len(g) - 1) * np.var(g, ddof=1) for g in groups) / dof)
    assert pooled.sigma == pytest.approx(sp / c4(dof + 1), rel=1e-10)


def test_unequal_subgroups_xbar_r_minitab_weights() -> None:
    groups = _ragged()
    chart = xbar_r_chart(subgroups=groups)
    from traveler.spc.stats import chart_constants

    num = den = 0.0
    for g in groups:
        c = chart_constants(len(g))
        f = (c.d2 / c.d3) ** 2
        num += f * (max(g) - min(g)) / c.d2
        den += f
    assert chart.sigma == pytest.approx(num / den, rel=1e-12)
    assert chart.to_dict()["primary"]["limits_vary"] is True


def test_phase1_uses_only_the_first_k_subgroups() -> None:
    shifted = PISTON_RINGS + [[v + 0.05 for v in row] for row in PISTON_RINGS[:5]]
    chart = xbar_r_chart(subgroups=shifted, phase1=25)
    base = xbar_r_chart(subgroups=PISTON_RINGS)
    assert chart.primary.ucl[0] == pytest.approx(base.primary.ucl[0], rel=1e-14)
    assert chart.primary.values.size == 30
    assert chart.center_from == "phase1"
    result = analyze(chart_type="xbar_r", data=shifted, phase1=25, rules=["N1"])
    assert [v["index"] for v in result["rules"]["violations"]] == [25, 26, 27, 28, 29]


def test_frozen_baseline_center_sigma_and_limits() -> None:
    chart = xbar_r_chart(subgroups=PISTON_RINGS, baseline={"center": 74.0, "sigma": 0.01})
    assert chart.primary.ucl[0] == pytest.approx(74.0 + 3 * 0.01 / math.sqrt(5), rel=1e-14)
    assert chart.secondary is not None
    assert chart.secondary.ucl[0] == pytest.approx((2.326 + 3 * 0.864) * 0.01, abs=1e-5)  # D2(5) = 4.918
    assert chart.sigma_from == "baseline" and chart.center_from == "baseline"
    frozen = imr_chart(values=LOAN_COSTS, baseline={"center": 300, "ucl": 320, "lcl": 280})
    assert frozen.primary.ucl[0] == 320 and frozen.sigma == pytest.approx(20 / 3)
    only_center = imr_chart(values=LOAN_COSTS, baseline={"center": 290})
    assert only_center.primary.center[0] == 290
    assert only_center.sigma == pytest.approx(148 / 19 / 1.1283791670955126)


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(min_value=0.01, max_value=1000),
    shift=st.floats(min_value=-1000, max_value=1000),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_limits_scale_linearly_with_the_data(scale: float, shift: float, seed: int) -> None:
    data = np.random.default_rng(seed).normal(0, 1, (12, 4))
    for kind in ("xbar_r", "xbar_s"):
        a = analyze(chart_type=kind, data=data, rules=None)
        b = analyze(chart_type=kind, data=data * scale + shift, rules=None)
        for key in ("center", "ucl", "lcl"):
            assert b["primary"][key] == pytest.approx(a["primary"][key] * scale + shift, rel=1e-9, abs=1e-9 * scale)
        assert b["sigma"] == pytest.approx(a["sigma"] * scale, rel=1e-9)
        assert b["secondary"]["ucl"] == pytest.approx(a["secondary"]["ucl"] * scale, rel=1e-9)
    a = imr_chart(values=data.ravel())
    b = imr_chart(values=data.ravel() * scale + shift)
    assert b.primary.ucl[0] == pytest.approx(a.primary.ucl[0] * scale + shift, rel=1e-9, abs=1e-9 * scale)


def test_results_are_json_safe() -> None:
    import json

    result = analyze(chart_type="imr", data=LOAN_COSTS, lsl=280, usl=320)
    text = json.dumps(result, allow_nan=False)
    assert '"values"' in text
    assert result["secondary"]["values"][0] is None

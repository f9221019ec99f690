"""Capability, performance and the Anderson-Darling normality test.

Sources:
* NIST/SEMATECH e-Handbook of Statistical Methods, section 6.1.6 "What is process
  capability?": USL 20, LSL 8, mean 16, s 2 gives Cp = 1.00 and Cpk = 0.6667.
* Montgomery, Introduction to SQC, 6th ed., Example 8.5: LSL 38, USL 62, n = 20,
  s = 1.75 gives Cp = 2.29 with the 95 % chi-square interval 1.57 <= Cp <= 3.01;
  eq. (8.21) for Bissell's interval on Cpk.
* D'Agostino & Stephens (1986), Goodness-of-Fit Techniques, Table 4.9 for the
  Anderson-Darling p-value; checked here against scipy's A-squared and a simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from traveler.spc.stats import StatsInputError, analyze, anderson_darling, capability, cp_interval, cpk_interval
from traveler.spc.stats.normality import ad_p_value


def exact_sample(n: int, mean: float, sd: float, seed: int = 3) -> np.ndarray:
    z = np.random.default_rng(seed).normal(size=n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


def test_nist_6_1_6_cp_cpk_example() -> None:
    x = exact_sample(50, 16.0, 2.0)
    out = capability(values=x, lsl=8, usl=20, sigma_within=2.0)
    assert out["cp"] == pytest.approx(1.0, rel=1e-12)
    assert out["cpk"] == pytest.approx(0.6667, abs=5e-5)
    assert out["cpu"] == pytest.approx(4 / 6, rel=1e-12) and out["cpl"] == pytest.approx(8 / 6, rel=1e-12)
    # Overall sigma is the sample standard deviation, here exactly 2 too.
    assert out["pp"] == pytest.approx(1.0, rel=1e-12) and out["ppk"] == pytest.approx(4 / 6, rel=1e-12)


def test_montgomery_example_8_5_cp_confidence_interval() -> None:
    x = exact_sample(20, 50.0, 1.75)
    out = capability(values=x, lsl=38, usl=62, sigma_within=1.75, confidence=0.95)
    assert out["cp"] == pytest.approx(2.29, abs=0.005)
    lo, hi = out["cp_ci"]
    # Montgomery multiplies the rounded Cp = 2.29; from the exact 2.2857 the bounds are 1.5649, 3.0055.
    assert lo == pytest.approx(1.57, abs=0.006) and hi == pytest.approx(3.01, abs=0.006)
    assert lo == pytest.approx(24 / 10.5 * math.sqrt(stats.chi2.ppf(0.025, 19) / 19), rel=1e-12)
    assert out["pp_ci"] == pytest.approx([lo, hi], rel=1e-12)


def test_bissell_interval_for_cpk() -> None:
    lo, hi = cpk_interval(cpk=1.33, n=20, confidence=0.95)
    half = 1.959963984540054 * math.sqrt(1 / 180 + 1.33**2 / 38)
    assert (lo, hi) == pytest.approx((1.33 - half, 1.33 + half), rel=1e-12)
    lo90, hi90 = cpk_interval(cpk=1.33, n=20, confidence=0.90)
    assert lo < lo90 < hi90 < hi
    assert cp_interval(cp=None, n=20, confidence=0.95) == (None, None)


def test_one_sided_specifications() -> None:
    x = exact_sample(30, 10.0, 1.0)
    upper = capability(values=x, usl=13.0, sigma_within=1.0)
    assert upper["cp"] is None and upper["pp"] is None and upper["cpl"] is None
    assert upper["cpk"] == pytest.approx(1.0) and upper["cpu"] == pytest.approx(1.0)
    assert upper["cp_ci"] == [None, None] and upper["cpk_ci"][0] is not None
    assert upper["expected_within"]["below_lsl"] is None
    assert upper["expected_within"]["above_usl"] == pytest.approx(stats.norm.sf(3.0), rel=1e-12)
    lower = capability(values=x, lsl=8.5, sigma_within=1.0)
    assert lower["cpk"] == pytest.approx(0.5) and lower["ppk"] == pytest.approx(0.5)
    assert lower["one_sided"] is True


def test_expected_fraction_and_ppm_under_the_normal_model() -> None:
    x = exact_sample(40, 5.0, 0.5)
    out = capability(values=x, lsl=4.0, usl=6.5, sigma_within=0.4)
    within, overall = out["expected_within"], out["expected_overall"]
    assert within["below_lsl"] == pytest.approx(stats.norm.cdf(4.0, 5.0, 0.4), rel=1e-12)
    assert within["above_usl"] == pytest.approx(stats.norm.sf(6.5, 5.0, 0.4), rel=1e-12)
    assert within["ppm_total"] == pytest.approx(1e6 * (within["below_lsl"] + within["above_usl"]), rel=1e-12)
    assert overall["below_lsl"] == pytest.approx(stats.norm.cdf(4.0, 5.0, 0.5), rel=1e-12)
    # Far tails keep precision: 8 sigma above USL is about 6.2e-16, not 0.
    far = capability(values=x, usl=9.0, sigma_within=0.5)
    assert far["expected_within"]["above_usl"] == pytest.approx(stats.norm.sf(8.0), rel=1e-9)


def test_cpm_with_target_minitab_definition() -> None:
    x = exact_sample(25, 16.0, 2.0)
    out = capability(values=x, lsl=8, usl=20, target=14, sigma_within=2.0)
    tau = math.sqrt(sum((v - 14) ** 2 for v in x) / 24)
    assert out["cpm"] == pytest.approx(min(20 - 14, 14 - 8) / (3 * tau), rel=1e-12)
    assert capability(values=x, lsl=8, usl=20)["cpm"] is None


def test_capability_from_a_chart_uses_the_chart_sigma() -> None:
    rng = np.random.default_rng(11)
    data = rng.normal(10, 1, (30, 5))
    out = analyze(chart_type="xbar_r", data=data, lsl=6, usl=14, target=10)
    cap = out["capability"]
    r_bar = float(np.mean(data.max(axis=1) - data.min(axis=1)))
    assert cap["sigma_within"] == pytest.approx(r_bar / 2.325929, rel=1e-6)
    assert cap["sigma_within_method"] == "R-bar / d2"
    assert cap["sigma_overall"] == pytest.approx(float(np.std(data, ddof=1)), rel=1e-12)
    assert cap["n"] == 150
    assert cap["normality"]["p_value"] is not None


def test_anderson_darling_statistic_matches_scipy() -> None:
    for seed, n in ((1, 8), (2, 25), (3, 200)):
        x = np.random.default_rng(seed).gamma(3.0, size=n)
        ours = anderson_darling(values=x)
        assert ours.a2 == pytest.approx(stats.anderson(x, dist="norm", method="interpolate").statistic, rel=1e-10)
        assert ours.a2_adjusted == pytest.approx(ours.a2 * (1 + 0.75 / n + 2.25 / n**2), rel=1e-12)


def test_anderson_darling_p_value_against_simulation() -> None:
    # Monte Carlo distribution of A*^2 for normal samples of 20; D'Agostino & Stephens'
    # fitted curves agree within about 0.02 (their own approximation error plus ~0.002
    # simulation error).
    n, reps = 20, 40_000
    z = np.sort(np.random.default_rng(42).normal(size=(reps, n)), axis=1)
    z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, ddof=1, keepdims=True)
    i = np.arange(1, n + 1)
    a2 = -n - np.sum((2 * i - 1) * (stats.norm.logcdf(z) + stats.norm.logsf(z[:, ::-1])), axis=1) / n
    a2_adj = a2 * (1 + 0.75 / n + 2.25 / n**2)
    for threshold in (0.25, 0.4, 0.6, 0.8, 1.0):
        simulated = float(np.mean(a2_adj >= threshold))
        assert ad_p_value(threshold) == pytest.approx(simulated, abs=0.02), threshold
    # The critical value at 5 % is A*^2 = 0.752 (D'Agostino & Stephens Table 4.7).
    assert ad_p_value(0.752) == pytest.approx(0.05, abs=0.002)


def test_anderson_darling_flags_clearly_non_normal_data() -> None:
    x = np.random.default_rng(5).exponential(size=100)
    assert anderson_darling(values=x).p_value < 0.005
    constant = anderson_darling(values=[1.0, 1.0, 1.0, 1.0])
    assert constant.p_value is None and constant.to_dict()["a_squared"] is None


@settings(max_examples=60, deadline=None)
@given(
    shift=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    scale=st.floats(min_value=0.001, max_value=1000),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_capability_is_invariant_to_shifting_or_scaling_data_and_specs_together(
    shift: float, scale: float, seed: int
) -> None:
    x = np.random.default_rng(seed).normal(0, 1, 40)
    a = capability(values=x, lsl=-3.1, usl=2.7, target=0.1, sigma_within=0.9)
    b = capability(
        values=x * scale + shift,
        lsl=-3.1 * scale + shift,
        usl=2.7 * scale + shift,
        target=0.1 * scale + shift,
        sigma_within=0.9 * scale,
    )
    for key in ("cp", "cpk", "cpl", "cpu", "cpm", "pp", "ppk", "ppl", "ppu"):
        assert b[key] == pytest.approx(a[key], rel=1e-6), key
    assert b["expected_overall"]["ppm_total"] == pytest.approx(a["expected_overall"]["ppm_total"], rel=1e-5)
    assert b["normality"]["a_squared"] == pytest.approx(a["normality"]["a_squared"], rel=1e-6)


def _shifted_process() -> np.ndarray:
    # Phase I: 20 in-control subgroups around 10; phase II: 10 subgroups shifted to 11
    # with twice the spread, so every phase gives different indices.
    rng = np.random.default_rng(5)
    return np.vstack([rng.normal(10, 1, (20, 5)), rng.normal(11, 2, (10, 5))])


@pytest.mark.parametrize("chart_type", ["xbar_r", "xbar_s", "imr"])
def test_capability_with_phase1_covers_phase_one_only_by_default(chart_type: str) -> None:
    data = _shifted_process()
    k = 20
    points = data if chart_type != "imr" else data.ravel()
    k_points = k if chart_type != "imr" else k * 5
    out = analyze(chart_type=chart_type, data=points.tolist(), phase1=k_points, lsl=6, usl=14, rules=None)
    cap = out["capability"]
    phase_one = data[:k].ravel()
    assert (cap["phase"], cap["first_point"], cap["last_point"]) == ("phase1", 1, k_points)
    assert cap["n"] == phase_one.size
    assert cap["mean"] == pytest.approx(float(phase_one.mean()), rel=1e-12)
    assert cap["sigma_overall"] == pytest.approx(float(phase_one.std(ddof=1)), rel=1e-12)
    # Within sigma is the chart's own, estimated on phase I.
    assert cap["sigma_within"] == pytest.approx(out["sigma"], rel=1e-12)
    assert cap["sigma_within_from"] == "phase1"


def test_capability_over_phase_two_and_over_all_points() -> None:
    data = _shifted_process()
    phase_two = data[20:]
    cap2 = analyze(chart_type="xbar_r", data=data, phase1=20, lsl=6, usl=14, capability_phase="phase2")["capability"]
    assert (cap2["phase"], cap2["first_point"], cap2["last_point"], cap2["n"]) == ("phase2", 21, 30, 50)
    assert cap2["mean"] == pytest.approx(float(phase_two.mean()), rel=1e-12)
    r_bar = float(np.mean(phase_two.max(axis=1) - phase_two.min(axis=1)))
    assert cap2["sigma_within"] == pytest.approx(r_bar / 2.325929, rel=1e-6)
    assert cap2["sigma_within_from"] == "phase2"
    assert cap2["cp"] == pytest.approx(8 / (6 * r_bar / 2.325929), rel=1e-6)
    whole = analyze(chart_type="xbar_r", data=data, phase1=20, lsl=6, usl=14, capability_phase="all")["capability"]
    assert (whole["phase"], whole["n"]) == ("all", 150)
    r_all = float(np.mean(data.max(axis=1) - data.min(axis=1)))
    assert whole["sigma_within"] == pytest.approx(r_all / 2.325929, rel=1e-6)
    plain = analyze(chart_type="xbar_r", data=data, lsl=6, usl=14)["capability"]
    assert (plain["phase"], plain["first_point"], plain["last_point"], plain["n"]) == ("all", 1, 30, 150)


def test_capability_with_a_frozen_sigma_keeps_it_for_every_phase() -> None:
    data = _shifted_process()
    cap = analyze(
        chart_type="xbar_r", data=data, phase1=20, baseline={"sigma": 1.5}, lsl=6, usl=14, capability_phase="phase2"
    )["capability"]
    assert cap["sigma_within"] == 1.5 and cap["sigma_within_from"] == "baseline" and cap["n"] == 50


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capability_phase": "phase2"}, "needs phase1"),
        ({"capability_phase": "later"}, "must be one of"),
        ({"phase1": 29, "capability_phase": "phase2"}, "has 1 point"),
        ({"phase1": 30, "capability_phase": "phase2"}, "has 0 point"),
    ],
)
def test_capability_phase_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(StatsInputError) as err:
        analyze(chart_type="xbar_r", data=_shifted_process(), lsl=6, usl=14, **kwargs)
    assert err.value.field == "capability_phase" and message in err.value.message


@pytest.mark.parametrize("n", [30, 100])
def test_bissell_cpk_interval_covers_the_true_cpk_95_percent_of_the_time(n: int) -> None:
    """Independent of the formula: simulated normal samples with a known Cpk of 4/3.

    Bissell's interval is a large-sample approximation; from n = 30 its coverage is
    within about 0.01 of the nominal 95 % (20,000 samples: simulation error ~0.0015).
    """
    reps = 20_000
    x = np.random.default_rng(7).normal(0.0, 1.0, (reps, n))
    mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
    usl, lsl, true_cpk = 4.0, -5.0, 4.0 / 3.0
    cpk = np.minimum((usl - mean) / (3 * sd), (mean - lsl) / (3 * sd))
    covered = 0
    for value in cpk:
        lo, hi = cpk_interval(cpk=float(value), n=n, confidence=0.95)
        covered += lo <= true_cpk <= hi
    assert covered / reps == pytest.approx(0.95, abs=0.01)


def test_cpm_agrees_with_pp_and_the_offset_from_target() -> None:
    """Independent route to Cpm (target at the midpoint): tau^2 = s^2 + n/(n-1) (x-bar - T)^2,
    so Cpm = Pp / sqrt(1 + n/(n-1) ((x-bar - T)/s)^2)."""
    x = exact_sample(25, 16.0, 2.0)
    out = capability(values=x, lsl=8, usl=20, target=14, sigma_within=2.0)
    n, offset = 25, (16.0 - 14.0) / 2.0
    assert out["pp"] == pytest.approx(1.0, rel=1e-12)
    assert out["cpm"] == pytest.approx(1.0 / math.sqrt(1 + n / (n - 1) * offset**2), rel=1e-12)

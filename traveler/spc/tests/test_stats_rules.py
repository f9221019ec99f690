"""Nelson (Journal of Quality Technology 16(4), 1984) and Western Electric (Statistical
Quality Control Handbook, 1956) run rules, as listed in Montgomery section 5.3.6 and the
NIST/SEMATECH e-Handbook section 6.3.2. Center 0 and sigma 1 unless stated.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traveler.spc.stats import RULE_SETS, StatsInputError, analyze, evaluate_rules, normalize_rules

# One sequence per Nelson rule that breaks exactly that rule, and the flagged indices.
EXACTLY_ONE = {
    "N1": ([0.1, -0.2, 3.5, 0.3, -0.1], [2]),
    "N2": ([-0.5, 0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.1, 0.5, 0.3], [9]),
    "N3": ([-0.6, -0.4, -0.2, 0.1, 0.3, 0.5], [5]),
    "N4": ([0.5, -0.5] * 7, [13]),
    "N5": ([0.2, 2.5, -0.3, 2.2, 0.1], [3]),
    "N6": ([0.2, 1.5, 1.3, 0.4, 1.6, 1.2, -0.2], [5]),
    "N7": ([0.5, -0.5, 0.6, 0.7, -0.4, -0.3, 0.2, -0.6, 0.4, 0.5, -0.2, -0.1, 0.3, -0.5, 0.2], [14]),
    "N8": ([1.5, -1.5, 1.2, -1.3, 1.4, -1.6, 1.3, -1.2], [7]),
}


def flagged(values: list[float], rules: object = "nelson", center: object = 0.0, sigma: object = 1.0) -> dict:
    result = evaluate_rules(values=values, center=center, sigma=sigma, rules=rules)
    return {v["index"]: v["rules"] for v in result.violations()}


@pytest.mark.parametrize("rule", sorted(EXACTLY_ONE))
def test_each_nelson_rule_alone(rule: str) -> None:
    values, indices = EXACTLY_ONE[rule]
    assert flagged(values) == {i: [rule] for i in indices}


@pytest.mark.parametrize("rule", sorted(EXACTLY_ONE))
def test_one_point_short_of_the_pattern_breaks_nothing(rule: str) -> None:
    values, indices = EXACTLY_ONE[rule]
    if rule in ("N1",):
        values = [v if abs(v) < 3 else 2.9 for v in values]
    elif rule in ("N5",):
        values = [0.2, 2.5, -0.3, 1.9, 0.1]
    elif rule in ("N6",):
        values = [0.2, 1.5, 1.3, 0.4, 0.9, 1.2, -0.2]
    elif rule == "N2":
        values = values[2:]
    else:
        values = values[1:]
    assert flagged(values) == {}


def test_western_electric_rule_4_eight_on_one_side() -> None:
    values = [0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.1, 0.5]
    assert flagged(values, rules="we") == {7: ["WE4"]}
    assert flagged(values, rules="nelson") == {}
    assert flagged([0.2, 2.5, -0.3, 2.2], rules="western_electric") == {3: ["WE2"]}
    assert flagged([0.2, 1.5, 1.3, 0.4, 1.6, 1.2], rules="we") == {5: ["WE3"]}


def test_every_point_that_continues_a_pattern_is_flagged_and_a_point_can_break_several() -> None:
    assert sorted(flagged([0.5] * 11, rules=["N2"])) == [8, 9, 10]
    hits = flagged([2.5, 2.6, 3.4], rules="nelson")
    assert hits[2] == ["N1", "N5", "N6"] or hits[2] == ["N1", "N5"]
    assert hits[1] == ["N5"]


def test_point_on_center_line_breaks_a_run_and_ties_break_trends() -> None:
    assert flagged([0.5] * 5 + [0.0] + [0.5] * 5, rules=["N2"]) == {}
    assert flagged([-0.6, -0.4, -0.4, -0.2, 0.1, 0.3, 0.5], rules=["N3"]) == {}
    assert flagged([0.5, -0.5] * 3 + [-0.5] + [0.5, -0.5] * 4, rules=["N4"]) == {}


def test_zone_boundaries_belong_to_the_inner_zone() -> None:
    assert flagged([3.0], rules=["N1"]) == {}
    assert flagged([3.0000001], rules=["N1"]) == {0: ["N1"]}
    assert flagged([2.0, 2.0, 0.0], rules=["N5"]) == {}
    assert flagged([1.0] * 4 + [-1.0] * 4, rules=["N8"]) == {}
    # Points exactly at +/- 1 sigma count as within 1 sigma for rule 7.
    within = EXACTLY_ONE["N7"][0][:]
    within[3] = 1.0
    within[7] = -1.0
    assert flagged(within, rules=["N7"]) == {14: ["N7"]}


def test_per_point_zones_for_varying_limits() -> None:
    values = [2.5, 2.5, 0.0]
    assert flagged(values, rules=["N1"], sigma=[1.0, 0.5, 1.0]) == {1: ["N1"]}
    assert flagged(values, rules=["N1"], center=[0.0, 0.0, -3.5], sigma=1.0) == {2: ["N1"]}


def test_nan_points_break_runs_and_never_violate() -> None:
    values = [0.5] * 5 + [float("nan")] + [0.5] * 5
    assert flagged(values, rules="nelson") == {}


def test_rule_selection_forms() -> None:
    assert normalize_rules("nelson") == list(RULE_SETS["nelson"])
    assert normalize_rules("WE") == list(RULE_SETS["western_electric"])
    assert normalize_rules({"nelson": [1, 5], "western_electric": [4]}) == ["N1", "N5", "WE4"]
    assert normalize_rules(["n2", "nelson"]) == list(RULE_SETS["nelson"])
    assert normalize_rules(None) == [] and normalize_rules([]) == [] and normalize_rules("none") == []
    for bad in ("N9", "shewhart", {"nelson": [9]}, {"nelson": ["1"]}, 5, [1]):
        with pytest.raises(StatsInputError) as err:
            normalize_rules(bad)
        assert err.value.field == "rules"


def _window(x: list[float], i: int, k: int, pred) -> bool:  # noqa: ANN001
    return i >= k - 1 and all(pred(x[j]) for j in range(i - k + 1, i + 1))


def _k_of_w(x: list[float], i: int, zone: float, k: int, w: int) -> bool:
    lo = max(0, i - w + 1)
    up = x[i] > zone and sum(v > zone for v in x[lo : i + 1]) >= k
    down = x[i] < -zone and sum(v < -zone for v in x[lo : i + 1]) >= k
    return up or down


def _reference(x: list[float], code: str) -> list[int]:
    """Plain-loop implementation of the documented conventions (center 0, sigma 1)."""
    out = []
    for i in range(len(x)):
        hit = {
            "N1": abs(x[i]) > 3,
            "N2": _window(x, i, 9, lambda v: v > 0) or _window(x, i, 9, lambda v: v < 0),
            "N3": i >= 5
            and (all(x[j + 1] > x[j] for j in range(i - 5, i)) or all(x[j + 1] < x[j] for j in range(i - 5, i))),
            "N4": i >= 13 and all((x[j + 1] - x[j]) * (x[j] - x[j - 1]) < 0 for j in range(i - 12, i)),
            "N5": _k_of_w(x, i, 2, 2, 3),
            "N6": _k_of_w(x, i, 1, 4, 5),
            "N7": _window(x, i, 15, lambda v: abs(v) <= 1),
            "N8": _window(x, i, 8, lambda v: abs(v) > 1),
            "WE4": _window(x, i, 8, lambda v: v > 0) or _window(x, i, 8, lambda v: v < 0),
        }[code]
        if hit:
            out.append(i)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-8, max_value=8), min_size=0, max_size=60))
def test_vectorised_rules_match_a_plain_loop_reference(halves: list[int]) -> None:
    # Half-sigma steps put many points exactly on zone boundaries and create ties.
    x = [h / 2 for h in halves]
    for code in ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "WE4"):
        result = evaluate_rules(values=x, center=0.0, sigma=1.0, rules=[code])
        assert np.flatnonzero(result.flags[code]).tolist() == _reference(x, code), code


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=-40, max_value=40), min_size=3, max_size=80),
    st.integers(min_value=-10_000, max_value=10_000),
)
def test_rule_detection_is_invariant_to_shifting_the_data(eighths: list[int], shift: int) -> None:
    # Dyadic values keep the shifted arithmetic exact, so any difference is a real bug.
    x = np.array(eighths, dtype=float) / 8
    a = analyze(chart_type="imr", data=x, rules="nelson", baseline={"center": 0.25, "sigma": 1.0})
    b = analyze(chart_type="imr", data=x + shift, rules="nelson", baseline={"center": 0.25 + shift, "sigma": 1.0})
    assert a["rules"]["violations"] == b["rules"]["violations"]
    c = analyze(chart_type="imr", data=x, rules=None)
    d = analyze(chart_type="imr", data=x + shift / 8, rules=None)
    assert c["sigma"] == pytest.approx(d["sigma"], rel=1e-12, abs=1e-12)

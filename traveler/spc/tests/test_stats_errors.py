"""Every bad input raises StatsInputError(ValueError) naming the field."""

from __future__ import annotations

import math

import pytest

from traveler.spc.stats import StatsInputError, analyze, capability, z14_plan

GOOD = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [1.5, 2.5, 2.0]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chart_type": "xbar_r", "data": [[1.0, 2.0], [3.0]]}, "subgroups"),  # size 1
        ({"chart_type": "xbar_s", "data": [[float(i) for i in range(26)]] * 3}, "subgroups"),  # size 26
        ({"chart_type": "xbar_r", "data": []}, "subgroups"),  # empty
        ({"chart_type": "imr", "data": []}, "values"),
        ({"chart_type": "c", "data": []}, "counts"),
        ({"chart_type": "xbar_r", "data": [[1.0, 2.0, 3.0]]}, "subgroups"),  # one subgroup
        ({"chart_type": "imr", "data": [4.2]}, "values"),  # one value
        ({"chart_type": "c", "data": [4]}, "counts"),
        ({"chart_type": "xbar_r", "data": [[1.0, math.nan], [1.0, 2.0]]}, "subgroups"),
        ({"chart_type": "xbar_r", "data": [[1.0, 2.0, 3.0], [1.0, math.inf]]}, "subgroups"),
        ({"chart_type": "imr", "data": [1.0, "x", 3.0]}, "values"),
        ({"chart_type": "c", "data": [3, -1, 2]}, "counts"),
        ({"chart_type": "u", "data": [3, 1, 2], "sample_sizes": [1, 0, 2]}, "sample_sizes"),
        ({"chart_type": "p", "data": [3, -2, 2], "sample_sizes": 10}, "defectives"),
        ({"chart_type": "p", "data": [3, 12, 2], "sample_sizes": 10}, "defectives"),
        ({"chart_type": "np", "data": [3, 11, 2], "sample_sizes": 10}, "defectives"),
        ({"chart_type": "np", "data": [3, 1, 2], "sample_sizes": [10, 12, 10]}, "sample_sizes"),
        ({"chart_type": "p", "data": [3, 1.5, 2], "sample_sizes": 10}, "defectives"),
        ({"chart_type": "p", "data": [3, 1, 2]}, "sample_sizes"),
        ({"chart_type": "p", "data": [3, 1, 2], "sample_sizes": [10, 10]}, "sample_sizes"),
        ({"chart_type": "pareto", "data": [1, 2]}, "chart_type"),
        ({"chart_type": "xbar_r", "data": GOOD, "phase1": 1}, "phase1"),
        ({"chart_type": "xbar_r", "data": GOOD, "phase1": 9}, "phase1"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "baseline": {"sigma": -1}}, "baseline.sigma"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "baseline": {"ucl": 1.0}}, "baseline"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "baseline": {"mean": 1.0}}, "baseline"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "baseline": {"center": math.nan}}, "baseline.center"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "lsl": 5.0, "usl": 5.0}, "lsl"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "lsl": 6.0, "usl": 5.0}, "lsl"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "lsl": math.nan, "usl": 5.0}, "lsl"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "usl": math.inf}, "usl"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "usl": 5.0, "confidence": 1.5}, "confidence"),
        ({"chart_type": "c", "data": [1, 2, 3], "usl": 5.0}, "lsl"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "rules": "N12"}, "rules"),
        ({"chart_type": "imr", "data": [1.0, 2.0, 3.0], "sigma_method": "rbar"}, "sigma_method"),
        ({"chart_type": "xbar_r", "data": GOOD, "sigma_method": "pooled"}, "sigma_method"),
    ],
)
def test_analyze_rejects_bad_input(kwargs: dict, field: str) -> None:
    with pytest.raises(StatsInputError) as err:
        analyze(**kwargs)
    assert err.value.field == field
    assert isinstance(err.value, ValueError)
    assert err.value.message and err.value.to_dict() == {"field": field, "message": err.value.message}


def test_capability_needs_a_spec_limit() -> None:
    with pytest.raises(StatsInputError) as err:
        capability(values=[1.0, 2.0, 3.0])
    assert err.value.field == "lsl"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lot_size": 1000, "aql": 0.5}, "aql"),
        ({"lot_size": 1000, "aql": None}, "aql"),
        ({"lot_size": 1, "aql": 1.0}, "lot_size"),
        ({"lot_size": -5, "aql": 1.0}, "lot_size"),
        ({"lot_size": 1000, "aql": 1.0, "level": "V"}, "level"),
        ({"lot_size": 1000, "aql": 1.0, "level": 2}, "level"),
    ],
)
def test_z14_rejects_undefined_inputs(kwargs: dict, field: str) -> None:
    with pytest.raises(StatsInputError) as err:
        z14_plan(**kwargs)
    assert err.value.field == field


def test_values_at_the_input_bound_give_numbers_not_an_error() -> None:
    # MR-bar / d2 of values at +/-1e100 is above 1e100; it is a result, not an input.
    out = analyze(chart_type="imr", data=[1e100, -1e100, 1e100], lsl=-1e100, usl=1e100)
    assert out["capability"]["sigma_within"] == pytest.approx(2e100 / 1.1283791670955126, rel=1e-12)
    assert out["capability"]["cp"] == pytest.approx(2e100 / (6 * out["capability"]["sigma_within"]), rel=1e-12)

"""One entry point for the HTTP API: chart + run rules + capability in one call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import attribute_charts, charts
from .capability import capability
from .errors import StatsInputError
from .rules import evaluate_rules

CHART_TYPES = ("xbar_r", "xbar_s", "imr", "p", "np", "c", "u")
VARIABLES_CHARTS = ("xbar_r", "xbar_s", "imr")


def build_chart(
    *,
    chart_type: str,
    data: Any,
    sample_sizes: Any = None,
    phase1: int | None = None,
    baseline: Mapping[str, float] | None = None,
    sigma_method: str | None = None,
) -> charts.ChartResult:
    """Compute a chart of the given type; ``data`` is subgroups, values or counts."""
    if chart_type not in CHART_TYPES:
        raise StatsInputError(field="chart_type", message=f"must be one of {', '.join(CHART_TYPES)}")
    if sigma_method is not None and chart_type not in ("xbar_r", "xbar_s"):
        raise StatsInputError(field="sigma_method", message="only X-bar/R and X-bar/S charts have a choice")
    if sample_sizes is None and chart_type in ("p", "np", "u"):
        raise StatsInputError(field="sample_sizes", message=f"a {chart_type} chart needs sample sizes")
    common = {"phase1": phase1, "baseline": baseline}
    if chart_type == "xbar_r":
        return charts.xbar_r_chart(subgroups=data, sigma_method=sigma_method or "rbar", **common)
    if chart_type == "xbar_s":
        return charts.xbar_s_chart(subgroups=data, sigma_method=sigma_method or "sbar", **common)
    if chart_type == "imr":
        return charts.imr_chart(values=data, **common)
    if chart_type == "p":
        return attribute_charts.p_chart(defectives=data, sample_sizes=sample_sizes, **common)
    if chart_type == "np":
        return attribute_charts.np_chart(defectives=data, sample_sizes=sample_sizes, **common)
    if chart_type == "c":
        return attribute_charts.c_chart(counts=data, **common)
    return attribute_charts.u_chart(counts=data, sample_sizes=sample_sizes, **common)


def analyze(
    *,
    chart_type: str,
    data: Any,
    sample_sizes: Any = None,
    phase1: int | None = None,
    baseline: Mapping[str, float] | None = None,
    rules: Any = "nelson",
    lsl: float | None = None,
    usl: float | None = None,
    target: float | None = None,
    confidence: float = 0.95,
    sigma_method: str | None = None,
) -> dict[str, Any]:
    """Chart, run rules and (for variables charts with specs) capability, as a JSON-ready dict.

    Run rules apply to the primary chart with per-point zones; the secondary chart
    (R, S, MR) is checked only for points beyond its control limits ("limit").
    """
    chart = build_chart(
        chart_type=chart_type,
        data=data,
        sample_sizes=sample_sizes,
        phase1=phase1,
        baseline=baseline,
        sigma_method=sigma_method,
    )
    primary = chart.primary
    rule_result = evaluate_rules(values=primary.values, center=primary.center, sigma=primary.sigma, rules=rules)
    out = chart.to_dict()
    out["rules"] = rule_result.to_dict()
    if chart.secondary is not None:
        sec = chart.secondary
        beyond = (sec.values > sec.ucl) | (sec.values < sec.lcl)
        out["secondary"]["violations"] = [{"index": int(i), "rules": ["limit"]} for i in beyond.nonzero()[0]]
    out["capability"] = None
    if lsl is not None or usl is not None or target is not None:
        if chart_type not in VARIABLES_CHARTS:
            raise StatsInputError(field="lsl", message="capability needs a variables chart (xbar_r, xbar_s, imr)")
        out["capability"] = capability(
            values=chart.observations,
            lsl=lsl,
            usl=usl,
            target=target,
            sigma_within=chart.sigma,
            within_method=chart.sigma_method,
            confidence=confidence,
        )
    return out

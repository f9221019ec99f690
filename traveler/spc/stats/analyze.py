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
CAPABILITY_PHASES = ("all", "phase1", "phase2")


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
    capability_phase: str | None = None,
) -> dict[str, Any]:
    """Chart, run rules and (for variables charts with specs) capability, as a JSON-ready dict.

    Run rules apply to the primary chart with per-point zones; the secondary chart
    (R, S, MR) is checked only for points beyond its control limits ("limit").
    Capability covers ``capability_phase``: "phase1" (the first ``phase1`` points, the
    default when ``phase1`` is given), "phase2" (the points after them) or "all" (the
    default otherwise); the result says which, and which points.
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
        phase, first, last = _capability_points(capability_phase, chart.phase1_count, int(primary.values.size))
        sigma_within, within_method, sigma_from = chart.sigma, chart.sigma_method, chart.sigma_from
        observations = chart.observations
        if (first, last) != (0, int(primary.values.size)) or chart.phase1_count is not None:
            # The phase's own chart: its observations, and its within sigma estimated the
            # same way as the chart's (unless the process sigma is frozen in a baseline).
            part = build_chart(chart_type=chart_type, data=data[first:last], sigma_method=sigma_method)
            observations = part.observations
            if chart.sigma_from != "baseline":
                sigma_within, within_method, sigma_from = part.sigma, part.sigma_method, phase
        cap = capability(
            values=observations,
            lsl=lsl,
            usl=usl,
            target=target,
            sigma_within=sigma_within,
            within_method=within_method,
            confidence=confidence,
        )
        cap.update(phase=phase, first_point=first + 1, last_point=last, sigma_within_from=sigma_from)
        out["capability"] = cap
    return out


def _capability_points(requested: Any, k: int | None, n_points: int) -> tuple[str, int, int]:
    """The phase capability is computed over, and its points as a slice [first, last)."""
    if requested is None:
        phase = "phase1" if k is not None else "all"
    elif requested in CAPABILITY_PHASES:
        phase = requested
    else:
        raise StatsInputError(field="capability_phase", message=f"must be one of {', '.join(CAPABILITY_PHASES)}")
    if phase == "all":
        return phase, 0, n_points
    if k is None:
        raise StatsInputError(
            field="capability_phase", message=f"{phase} needs phase1, the number of phase I points"
        )
    first, last = (0, k) if phase == "phase1" else (k, n_points)
    if last - first < 2:
        raise StatsInputError(
            field="capability_phase",
            message=f"{phase} has {last - first} point(s); capability needs at least 2",
        )
    return phase, first, last

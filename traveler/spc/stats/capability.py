"""Process capability (Cp, Cpk, Cpm) and performance (Pp, Ppk) under the normal model.

Within sigma comes from the control chart (R-bar/d2, s-bar/c4 or MR-bar/d2); overall
sigma is the sample standard deviation of all values (ddof=1). Confidence intervals:
chi-square for Cp and Pp, Bissell's normal approximation for Cpk and Ppk (Montgomery,
Introduction to Statistical Quality Control, section 8.3.5), and Boyles' chi-square
approximation for Cpm (Boyles 1991, Journal of Quality Technology 23(1)). Formulas:
docs/statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from ._util import finite_array, finite_number, json_float
from .errors import StatsInputError
from .normality import anderson_darling


@dataclass(frozen=True)
class SpecLimits:
    lsl: float | None
    usl: float | None
    target: float | None


def check_specs(*, lsl: Any, usl: Any, target: Any) -> SpecLimits:
    lo = None if lsl is None else finite_number(lsl, field="lsl")
    hi = None if usl is None else finite_number(usl, field="usl")
    t = None if target is None else finite_number(target, field="target")
    if lo is None and hi is None:
        raise StatsInputError(field="lsl", message="give at least one specification limit (lsl or usl)")
    if lo is not None and hi is not None and lo >= hi:
        raise StatsInputError(field="lsl", message="lsl must be less than usl")
    return SpecLimits(lsl=lo, usl=hi, target=t)


def _ratio(num: float, den: float) -> float | None:
    if den <= 0 or not math.isfinite(den):
        return None
    value = num / den
    return value if math.isfinite(value) else None


def _indices(mean: float, sigma: float, spec: SpecLimits) -> dict[str, float | None]:
    upper = _ratio(spec.usl - mean, 3.0 * sigma) if spec.usl is not None else None
    lower = _ratio(mean - spec.lsl, 3.0 * sigma) if spec.lsl is not None else None
    both = None
    if spec.lsl is not None and spec.usl is not None:
        both = _ratio(spec.usl - spec.lsl, 6.0 * sigma)
    sides = [v for v in (upper, lower) if v is not None]
    k = min(sides) if len(sides) == (spec.lsl is not None) + (spec.usl is not None) and sides else None
    return {"p": both, "u": upper, "l": lower, "k": k}


def _expected(mean: float, sigma: float, spec: SpecLimits) -> dict[str, float | None]:
    if sigma <= 0:
        return {
            "below_lsl": None,
            "above_usl": None,
            "total": None,
            "ppm_below_lsl": None,
            "ppm_above_usl": None,
            "ppm_total": None,
        }
    below = float(special.ndtr((spec.lsl - mean) / sigma)) if spec.lsl is not None else 0.0
    # ndtr of the negated z keeps precision far in the upper tail (no 1 - x cancellation).
    above = float(special.ndtr((mean - spec.usl) / sigma)) if spec.usl is not None else 0.0
    return {
        "below_lsl": below if spec.lsl is not None else None,
        "above_usl": above if spec.usl is not None else None,
        "total": below + above,
        "ppm_below_lsl": below * 1e6 if spec.lsl is not None else None,
        "ppm_above_usl": above * 1e6 if spec.usl is not None else None,
        "ppm_total": (below + above) * 1e6,
    }


def cp_interval(*, cp: float | None, n: int, confidence: float) -> tuple[float | None, float | None]:
    """Chi-square interval: Cp * sqrt(chi2_{a/2, n-1} / (n-1)) .. Cp * sqrt(chi2_{1-a/2, n-1} / (n-1))."""
    if cp is None or n < 2:
        return None, None
    alpha = 1.0 - confidence
    dof = n - 1
    lo = cp * math.sqrt(stats.chi2.ppf(alpha / 2.0, dof) / dof)
    hi = cp * math.sqrt(stats.chi2.ppf(1.0 - alpha / 2.0, dof) / dof)
    return lo, hi


def cpk_interval(*, cpk: float | None, n: int, confidence: float) -> tuple[float | None, float | None]:
    """Bissell (1990): Cpk -/+ z_{a/2} sqrt(1/(9n) + Cpk^2 / (2(n-1)))."""
    if cpk is None or n < 2:
        return None, None
    z = stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0)
    half = z * math.sqrt(1.0 / (9.0 * n) + cpk * cpk / (2.0 * (n - 1)))
    return cpk - half, cpk + half


def cpm_interval(*, cpm: float | None, n: int, offset: float | None,
                 confidence: float) -> tuple[float | None, float | None]:
    """Boyles (1991): Cpm * sqrt(chi2_{a/2, v} / v) .. Cpm * sqrt(chi2_{1-a/2, v} / v), with
    v = n (1 + xi^2)^2 / (1 + 2 xi^2) degrees of freedom, xi = (x-bar - T) / s (``offset``)."""
    if cpm is None or offset is None or n < 2 or not math.isfinite(offset):
        return None, None
    alpha = 1.0 - confidence
    xi2 = offset * offset
    dof = n * (1.0 + xi2) ** 2 / (1.0 + 2.0 * xi2)
    lo = cpm * math.sqrt(stats.chi2.ppf(alpha / 2.0, dof) / dof)
    hi = cpm * math.sqrt(stats.chi2.ppf(1.0 - alpha / 2.0, dof) / dof)
    return lo, hi


def _cpm(x: np.ndarray, spec: SpecLimits) -> float | None:
    # Minitab's Cpm: tau = sqrt(sum (x - T)^2 / (n - 1)); the nearer spec limit to the
    # target sets the width, which equals (USL - LSL) / 6 tau when T is the midpoint.
    if spec.target is None or x.size < 2:
        return None
    tau = math.sqrt(float(np.sum((x - spec.target) ** 2)) / (x.size - 1))
    sides = []
    if spec.usl is not None:
        sides.append(spec.usl - spec.target)
    if spec.lsl is not None:
        sides.append(spec.target - spec.lsl)
    return _ratio(min(sides), 3.0 * tau)


def capability(
    *,
    values: Any,
    lsl: float | None = None,
    usl: float | None = None,
    target: float | None = None,
    sigma_within: float | None = None,
    within_method: str = "given",
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Capability (within sigma) and performance (overall sigma) indices with CIs.

    ``sigma_within`` normally comes from the control chart; without it the within
    indices are None and only performance is reported.
    """
    x = finite_array(values, field="values")
    if x.size < 2:
        raise StatsInputError(field="values", message="capability needs at least 2 values")
    spec = check_specs(lsl=lsl, usl=usl, target=target)
    conf = finite_number(confidence, field="confidence")
    if not 0.0 < conf < 1.0:
        raise StatsInputError(field="confidence", message="must be between 0 and 1 (e.g. 0.95)")
    if sigma_within is not None:
        # Not bounded like an input: a chart's sigma from values near the bound may exceed it.
        if isinstance(sigma_within, bool) or not isinstance(sigma_within, (int, float, np.integer, np.floating)):
            raise StatsInputError(field="sigma_within", message="must be a number")
        sigma_within = float(sigma_within)
        if not math.isfinite(sigma_within) or sigma_within < 0:
            raise StatsInputError(field="sigma_within", message="must be a finite number, 0 or more")
    n = int(x.size)
    mean = float(x.mean())
    sigma_overall = float(x.std(ddof=1))

    within = _indices(mean, sigma_within, spec) if sigma_within is not None else dict.fromkeys("pulk")
    overall = _indices(mean, sigma_overall, spec)
    cp_lo, cp_hi = cp_interval(cp=within["p"], n=n, confidence=conf)
    cpk_lo, cpk_hi = cpk_interval(cpk=within["k"], n=n, confidence=conf)
    pp_lo, pp_hi = cp_interval(cp=overall["p"], n=n, confidence=conf)
    ppk_lo, ppk_hi = cpk_interval(cpk=overall["k"], n=n, confidence=conf)
    cpm = _cpm(x, spec)
    offset = (mean - spec.target) / sigma_overall if spec.target is not None and sigma_overall > 0 else None
    cpm_lo, cpm_hi = cpm_interval(cpm=cpm, n=n, offset=offset, confidence=conf)
    observed_below = int((x < spec.lsl).sum()) if spec.lsl is not None else 0
    observed_above = int((x > spec.usl).sum()) if spec.usl is not None else 0
    normality = anderson_darling(values=x).to_dict() if n >= 3 else None
    f = json_float
    return {
        "n": n,
        "mean": f(mean),
        "lsl": spec.lsl,
        "usl": spec.usl,
        "target": spec.target,
        "one_sided": spec.lsl is None or spec.usl is None,
        "sigma_within": f(sigma_within),
        "sigma_within_method": within_method if sigma_within is not None else None,
        "sigma_overall": f(sigma_overall),
        "sigma_overall_method": "sample standard deviation (n - 1)",
        "confidence": conf,
        "cp": f(within["p"]),
        "cpl": f(within["l"]),
        "cpu": f(within["u"]),
        "cpk": f(within["k"]),
        "cpm": f(cpm),
        "pp": f(overall["p"]),
        "ppl": f(overall["l"]),
        "ppu": f(overall["u"]),
        "ppk": f(overall["k"]),
        "cp_ci": [f(cp_lo), f(cp_hi)],
        "cpk_ci": [f(cpk_lo), f(cpk_hi)],
        "pp_ci": [f(pp_lo), f(pp_hi)],
        "ppk_ci": [f(ppk_lo), f(ppk_hi)],
        "cpm_ci": [f(cpm_lo), f(cpm_hi)],
        "expected_within": _clean(_expected(mean, sigma_within, spec)) if sigma_within is not None else None,
        "expected_overall": _clean(_expected(mean, sigma_overall, spec)),
        "observed": {
            "below_lsl": observed_below if spec.lsl is not None else None,
            "above_usl": observed_above if spec.usl is not None else None,
            "ppm_total": (observed_below + observed_above) / n * 1e6,
        },
        "normality": normality,
    }


def _clean(d: dict[str, float | None]) -> dict[str, float | None]:
    return {k: json_float(v) for k, v in d.items()}

"""Attribute control charts: p, np, c and u.

Limits are center +/- 3 sigma with sigma from the binomial (p, np) or Poisson (c, u)
model. A negative lower limit is clipped to 0 because a count or a fraction cannot be
negative; the zones used by the run rules keep the unclipped sigma. Variable sample
sizes give per-point limits for p and u charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._util import count_array
from .charts import SIGMA_MULTIPLIER, ChartResult, ChartSeries, phase1_count, read_baseline
from .errors import StatsInputError

_ATTRIBUTE_BASELINE = ("center", "ucl", "lcl")


def _sizes(sample_sizes: Any, n_points: int) -> np.ndarray:
    if isinstance(sample_sizes, (int, np.integer)) and not isinstance(sample_sizes, bool):
        sizes = count_array([sample_sizes], field="sample_sizes", positive=True)
        return np.full(n_points, sizes[0], dtype=np.int64)
    sizes = count_array(sample_sizes, field="sample_sizes", positive=True)
    if sizes.size != n_points:
        raise StatsInputError(field="sample_sizes", message=f"needs one size per point ({n_points})")
    return sizes


def _finish(
    *,
    chart_type: str,
    name: str,
    values: np.ndarray,
    center: float,
    sigma: np.ndarray,
    base: dict[str, float],
    k: int | None,
    sizes: np.ndarray,
    unit_sigma: float,
    method: str,
    center_from: str,
) -> ChartResult:
    n = values.size
    center_arr = np.full(n, center, dtype=float)
    if "ucl" in base:
        ucl, lcl = np.full(n, base["ucl"]), np.full(n, base["lcl"])
        sigma = np.full(n, (base["ucl"] - base["lcl"]) / (2.0 * SIGMA_MULTIPLIER))
        clipped = False
    else:
        ucl = center_arr + SIGMA_MULTIPLIER * sigma
        raw_lcl = center_arr - SIGMA_MULTIPLIER * sigma
        lcl = np.maximum(raw_lcl, 0.0)
        clipped = bool((raw_lcl < 0).any())
    frozen = "ucl" in base
    return ChartResult(
        chart_type=chart_type,
        primary=ChartSeries(
            name=name, values=values, center=center_arr, ucl=ucl, lcl=lcl, sigma=sigma, lcl_clipped=clipped
        ),
        secondary=None,
        sigma=unit_sigma,
        sigma_method=method if not frozen else "derived from the frozen limits: (UCL - LCL) / 6",
        center_from=center_from,
        sigma_from="baseline" if frozen else center_from,
        phase1_count=k,
        sample_sizes=sizes,
        observations=None,
    )


def _prepare(counts: Any, field: str, phase1: Any, baseline: Any) -> tuple[np.ndarray, dict[str, float], int | None]:
    c = count_array(counts, field=field)
    base = read_baseline(baseline, _ATTRIBUTE_BASELINE)
    if c.size < 2 and "center" not in base:
        raise StatsInputError(field=field, message="needs at least 2 samples to estimate the center line")
    k = phase1_count(phase1, c.size, 1 if base else 2)
    return c, base, k


def _estimated(base: dict[str, float], k: int | None) -> str:
    if "center" in base:
        return "baseline"
    return "phase1" if k is not None else "all"


def p_chart(
    *, defectives: Any, sample_sizes: Any, phase1: int | None = None, baseline: Mapping[str, float] | None = None
) -> ChartResult:
    """Fraction nonconforming; baseline ``center`` is p-bar as a fraction."""
    d, base, k = _prepare(defectives, "defectives", phase1, baseline)
    n = _sizes(sample_sizes, d.size)
    if (d > n).any():
        i = int(np.flatnonzero(d > n)[0])
        raise StatsInputError(field="defectives", message=f"sample {i + 1} has more defectives than its sample size")
    est = slice(0, k if k is not None else d.size)
    p_bar = base["center"] if "center" in base else float(d[est].sum() / n[est].sum())
    if not 0.0 <= p_bar <= 1.0:
        raise StatsInputError(field="baseline.center", message="p-bar must be between 0 and 1")
    unit = float(np.sqrt(p_bar * (1.0 - p_bar)))
    return _finish(
        chart_type="p",
        name="p",
        values=d / n,
        center=p_bar,
        sigma=unit / np.sqrt(n),
        base=base,
        k=k,
        sizes=n,
        unit_sigma=unit,
        method="sqrt(p-bar (1 - p-bar) / n_i)",
        center_from=_estimated(base, k),
    )


def np_chart(
    *, defectives: Any, sample_sizes: Any, phase1: int | None = None, baseline: Mapping[str, float] | None = None
) -> ChartResult:
    """Number nonconforming with one constant sample size; baseline ``center`` is n * p-bar."""
    d, base, k = _prepare(defectives, "defectives", phase1, baseline)
    n = _sizes(sample_sizes, d.size)
    if not (n == n[0]).all():
        raise StatsInputError(field="sample_sizes", message="an np chart needs one constant sample size; use a p chart")
    if (d > n).any():
        i = int(np.flatnonzero(d > n)[0])
        raise StatsInputError(field="defectives", message=f"sample {i + 1} has more defectives than its sample size")
    size = int(n[0])
    est = slice(0, k if k is not None else d.size)
    p_bar = base["center"] / size if "center" in base else float(d[est].sum() / n[est].sum())
    if not 0.0 <= p_bar <= 1.0:
        raise StatsInputError(field="baseline.center", message="n * p-bar must be between 0 and n")
    unit = float(np.sqrt(p_bar * (1.0 - p_bar)))
    sigma = np.full(d.size, np.sqrt(size * p_bar * (1.0 - p_bar)))
    return _finish(
        chart_type="np",
        name="np",
        values=d.astype(float),
        center=size * p_bar,
        sigma=sigma,
        base=base,
        k=k,
        sizes=n,
        unit_sigma=unit,
        method="sqrt(n p-bar (1 - p-bar))",
        center_from=_estimated(base, k),
    )


def c_chart(*, counts: Any, phase1: int | None = None, baseline: Mapping[str, float] | None = None) -> ChartResult:
    """Nonconformities per inspection unit of constant size."""
    c, base, k = _prepare(counts, "counts", phase1, baseline)
    est = slice(0, k if k is not None else c.size)
    c_bar = base["center"] if "center" in base else float(c[est].mean())
    if c_bar < 0:
        raise StatsInputError(field="baseline.center", message="c-bar must not be negative")
    unit = float(np.sqrt(c_bar))
    return _finish(
        chart_type="c",
        name="c",
        values=c.astype(float),
        center=c_bar,
        sigma=np.full(c.size, unit),
        base=base,
        k=k,
        sizes=np.ones(c.size, dtype=np.int64),
        unit_sigma=unit,
        method="sqrt(c-bar)",
        center_from=_estimated(base, k),
    )


def u_chart(
    *, counts: Any, sample_sizes: Any, phase1: int | None = None, baseline: Mapping[str, float] | None = None
) -> ChartResult:
    """Nonconformities per unit with sample sizes (units inspected) that may vary."""
    c, base, k = _prepare(counts, "counts", phase1, baseline)
    n = _sizes(sample_sizes, c.size)
    est = slice(0, k if k is not None else c.size)
    u_bar = base["center"] if "center" in base else float(c[est].sum() / n[est].sum())
    if u_bar < 0:
        raise StatsInputError(field="baseline.center", message="u-bar must not be negative")
    unit = float(np.sqrt(u_bar))
    return _finish(
        chart_type="u",
        name="u",
        values=c / n,
        center=u_bar,
        sigma=unit / np.sqrt(n),
        base=base,
        k=k,
        sizes=n,
        unit_sigma=unit,
        method="sqrt(u-bar / n_i)",
        center_from=_estimated(base, k),
    )

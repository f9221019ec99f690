"""Variables control charts: X-bar/R, X-bar/S and individuals/moving range (I-MR).

Nothing is rounded inside the computation. Limits come from all data, from the first
k subgroups (phase I), or from a frozen baseline. Formulas: docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import constants as K
from ._util import finite_array, finite_number, json_float, json_list, json_series
from .errors import StatsInputError

SIGMA_MULTIPLIER = 3.0


@dataclass
class ChartSeries:
    """One panel of a chart: plotted values with per-point center, limits and sigma."""

    name: str
    values: np.ndarray
    center: np.ndarray
    ucl: np.ndarray
    lcl: np.ndarray
    sigma: np.ndarray  # sigma of the plotted statistic, used for the run-rule zones
    lcl_clipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": json_list(self.values),
            "center": json_series(self.center),
            "ucl": json_series(self.ucl),
            "lcl": json_series(self.lcl),
            "sigma": json_series(self.sigma),
            "limits_vary": not _constant(self.ucl) or not _constant(self.lcl),
            "lcl_clipped_to_zero": self.lcl_clipped,
        }


def _constant(a: np.ndarray) -> bool:
    finite = a[np.isfinite(a)]
    return finite.size == 0 or bool((finite == finite[0]).all())


@dataclass
class ChartResult:
    chart_type: str
    primary: ChartSeries
    secondary: ChartSeries | None
    sigma: float | None
    sigma_method: str
    center_from: str
    sigma_from: str
    phase1_count: int | None
    sample_sizes: np.ndarray
    observations: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chart_type": self.chart_type,
            "n_points": int(self.primary.values.size),
            "sample_sizes": json_series(self.sample_sizes),
            "primary": self.primary.to_dict(),
            "secondary": self.secondary.to_dict() if self.secondary is not None else None,
            "sigma": json_float(self.sigma),
            "sigma_method": self.sigma_method,
            "center_from": self.center_from,
            "sigma_from": self.sigma_from,
            "phase1_count": self.phase1_count,
        }


# --- input handling -------------------------------------------------------------------


def subgroup_matrix(subgroups: Any) -> tuple[np.ndarray, np.ndarray]:
    """Subgroups as an (m, n_max) float matrix padded with NaN, plus the sizes."""
    if isinstance(subgroups, np.ndarray):
        mat = finite_array(subgroups, field="subgroups", ndim=2)
        sizes = np.full(mat.shape[0], mat.shape[1], dtype=np.int64)
    else:
        if not isinstance(subgroups, (list, tuple)) or len(subgroups) == 0:
            raise StatsInputError(field="subgroups", message="must be a non-empty list of subgroups")
        rows = []
        for i, row in enumerate(subgroups):
            if not isinstance(row, (list, tuple, np.ndarray)):
                raise StatsInputError(field="subgroups", message=f"subgroup {i + 1} is not a list of numbers")
            rows.append(row)
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        if (lengths == lengths[0]).all():
            mat = finite_array(rows, field="subgroups", ndim=2)
        else:
            mat = np.full((len(rows), int(lengths.max())), np.nan)
            for i, row in enumerate(rows):
                mat[i, : lengths[i]] = finite_array(row, field="subgroups", allow_empty=True)
        sizes = lengths
    bad = np.flatnonzero((sizes < K.MIN_SUBGROUP) | (sizes > K.MAX_SUBGROUP))
    if bad.size:
        raise StatsInputError(
            field="subgroups",
            message=f"subgroup {int(bad[0]) + 1} has {int(sizes[bad[0]])} values; "
            f"each subgroup needs {K.MIN_SUBGROUP} to {K.MAX_SUBGROUP}",
        )
    return mat, sizes


def phase1_count(phase1: Any, n_points: int, minimum: int) -> int | None:
    if phase1 is None:
        return None
    if isinstance(phase1, bool) or not isinstance(phase1, (int, np.integer)):
        raise StatsInputError(field="phase1", message="must be the number of leading points to use")
    if not minimum <= phase1 <= n_points:
        raise StatsInputError(field="phase1", message=f"must be between {minimum} and {n_points}")
    return int(phase1)


def read_baseline(baseline: Any, allowed: tuple[str, ...]) -> dict[str, float]:
    if baseline is None:
        return {}
    if not isinstance(baseline, Mapping):
        raise StatsInputError(field="baseline", message="must be a mapping of frozen values")
    out: dict[str, float] = {}
    for key, value in baseline.items():
        if key not in allowed:
            raise StatsInputError(field="baseline", message=f"unknown key {key!r}; allowed: {', '.join(allowed)}")
        if value is None:
            continue
        out[key] = finite_number(value, field=f"baseline.{key}")
    if "sigma" in out and out["sigma"] <= 0:
        raise StatsInputError(field="baseline.sigma", message="must be greater than 0")
    if ("ucl" in out) != ("lcl" in out):
        raise StatsInputError(field="baseline", message="give both ucl and lcl, or neither")
    if "ucl" in out and out["ucl"] <= out["lcl"]:
        raise StatsInputError(field="baseline.ucl", message="must be greater than lcl")
    if ("secondary_ucl" in out) != ("secondary_lcl" in out):
        raise StatsInputError(field="baseline", message="give both secondary_ucl and secondary_lcl, or neither")
    return out


_VARIABLE_BASELINE = ("center", "sigma", "ucl", "lcl", "secondary_center", "secondary_ucl", "secondary_lcl")


def _frozen_secondary(series: ChartSeries, base: dict[str, float]) -> None:
    if "secondary_ucl" in base:
        series.ucl = np.full_like(series.values, base["secondary_ucl"])
        series.lcl = np.full_like(series.values, base["secondary_lcl"])
        series.lcl_clipped = False
    if "secondary_center" in base:
        series.center = np.full_like(series.values, base["secondary_center"])


def _source(frozen: bool, k: int | None) -> str:
    if frozen:
        return "baseline"
    return "phase1" if k is not None else "all"


# --- X-bar charts ---------------------------------------------------------------------


def _xbar_chart(
    *,
    chart_type: str,
    subgroups: Any,
    phase1: Any,
    baseline: Any,
    sigma_method: str,
) -> ChartResult:
    mat, sizes = subgroup_matrix(subgroups)
    m = mat.shape[0]
    base = read_baseline(baseline, _VARIABLE_BASELINE)
    k = phase1_count(phase1, m, 1 if base else 2)
    if m < 2 and not base:
        raise StatsInputError(field="subgroups", message="an X-bar chart needs at least 2 subgroups")
    est = slice(0, k if k is not None else m)
    equal = bool((sizes == sizes[0]).all())
    unique, which = np.unique(sizes, return_inverse=True)
    table = [K.chart_constants(int(n)) for n in unique]
    d2 = np.array([c.d2 for c in table])[which]
    d3 = np.array([c.d3 for c in table])[which]
    c4 = np.array([c.c4 for c in table])[which]

    if equal:
        means = mat.mean(axis=1)
        ranges = mat.max(axis=1) - mat.min(axis=1)
        sds = mat.std(axis=1, ddof=1) if chart_type == "xbar_s" else None
    else:
        means = np.nanmean(mat, axis=1)
        ranges = np.nanmax(mat, axis=1) - np.nanmin(mat, axis=1)
        sds = np.nanstd(mat, axis=1, ddof=1) if chart_type == "xbar_s" else None

    if "ucl" in base:
        if not equal:
            raise StatsInputError(
                field="baseline", message="frozen limits need equal subgroup sizes; give center and sigma instead"
            )
        center = base.get("center", (base["ucl"] + base["lcl"]) / 2.0)
        sigma = (base["ucl"] - base["lcl"]) / (2.0 * SIGMA_MULTIPLIER) * math.sqrt(sizes[0])
        center_from = sigma_from = "baseline"
        method = "derived from the frozen limits: (UCL - LCL) / 6 * sqrt(n)"
    else:
        if "center" in base:
            center, center_from = base["center"], "baseline"
        else:
            w = sizes[est]
            # Grand mean of all observations: the size-weighted mean of subgroup means.
            center, center_from = float(np.dot(w, means[est]) / w.sum()), _source(False, k)
        if "sigma" in base:
            sigma, sigma_from, method = base["sigma"], "baseline", "given in the baseline"
        else:
            sigma_from = _source(False, k)
            if chart_type == "xbar_r":
                sigma, method = _sigma_from_ranges(ranges[est], d2[est], d3[est], equal, sigma_method)
            else:
                assert sds is not None
                sigma, method = _sigma_from_sds(sds[est], sizes[est], c4[est], equal, sigma_method)

    root_n = np.sqrt(sizes.astype(float))
    se = sigma / root_n
    center_arr = np.full(m, center, dtype=float)
    if "ucl" in base:
        ucl = np.full(m, base["ucl"])
        lcl = np.full(m, base["lcl"])
    else:
        ucl = center_arr + SIGMA_MULTIPLIER * se
        lcl = center_arr - SIGMA_MULTIPLIER * se
    primary = ChartSeries(name="X-bar", values=means, center=center_arr, ucl=ucl, lcl=lcl, sigma=se)

    if chart_type == "xbar_r":
        sec_center, sec_sigma, name, stat = d2 * sigma, d3 * sigma, "R", ranges
    else:
        assert sds is not None
        sec_center, sec_sigma, name, stat = c4 * sigma, np.sqrt(1.0 - c4 * c4) * sigma, "S", sds
    raw_lcl = sec_center - SIGMA_MULTIPLIER * sec_sigma
    secondary = ChartSeries(
        name=name,
        values=stat,
        center=sec_center,
        ucl=sec_center + SIGMA_MULTIPLIER * sec_sigma,
        lcl=np.maximum(raw_lcl, 0.0),
        sigma=sec_sigma,
        lcl_clipped=bool((raw_lcl < 0).any()),
    )
    _frozen_secondary(secondary, base)
    observations = mat.ravel() if equal else mat[np.isfinite(mat)]
    return ChartResult(
        chart_type=chart_type,
        primary=primary,
        secondary=secondary,
        sigma=float(sigma),
        sigma_method=method,
        center_from=center_from,
        sigma_from=sigma_from,
        phase1_count=k,
        sample_sizes=sizes,
        observations=observations,
    )


def _sigma_from_ranges(
    ranges: np.ndarray, d2: np.ndarray, d3: np.ndarray, equal: bool, method: str
) -> tuple[float, str]:
    if method not in ("rbar", "uwave"):
        raise StatsInputError(field="sigma_method", message="X-bar/R supports 'rbar' or 'uwave'")
    if equal:
        return float(ranges.mean() / d2[0]), "R-bar / d2"
    if method == "uwave":
        return float(np.mean(ranges / d2)), "mean of R_i / d2(n_i) (qcc UWAVE-R)"
    f = (d2 / d3) ** 2
    return float(np.sum(f * ranges / d2) / f.sum()), "sum f_i R_i/d2(n_i) / sum f_i, f_i = (d2/d3)^2 (Minitab R-bar)"


def _sigma_from_sds(sds: np.ndarray, sizes: np.ndarray, c4: np.ndarray, equal: bool, method: str) -> tuple[float, str]:
    if method not in ("sbar", "uwave", "pooled"):
        raise StatsInputError(field="sigma_method", message="X-bar/S supports 'sbar', 'uwave' or 'pooled'")
    if method == "pooled":
        dof = int((sizes - 1).sum())
        sp = math.sqrt(float(np.dot(sizes - 1, sds * sds)) / dof)
        return sp / K.c4(dof + 1), "pooled s / c4(sum(n_i - 1) + 1) (Minitab pooled, qcc RMSDF)"
    if equal:
        return float(sds.mean() / c4[0]), "s-bar / c4"
    if method == "uwave":
        return float(np.mean(sds / c4)), "mean of s_i / c4(n_i) (qcc UWAVE-SD)"
    h = c4 * c4 / (1.0 - c4 * c4)
    return float(np.sum(h * sds / c4) / h.sum()), "sum h_i s_i/c4(n_i) / sum h_i, h_i = c4^2/(1-c4^2) (Minitab S-bar)"


def xbar_r_chart(
    *,
    subgroups: Any,
    phase1: int | None = None,
    baseline: Mapping[str, float] | None = None,
    sigma_method: str = "rbar",
) -> ChartResult:
    """X-bar and R chart; unequal subgroup sizes get per-subgroup limits."""
    return _xbar_chart(
        chart_type="xbar_r", subgroups=subgroups, phase1=phase1, baseline=baseline, sigma_method=sigma_method
    )


def xbar_s_chart(
    *,
    subgroups: Any,
    phase1: int | None = None,
    baseline: Mapping[str, float] | None = None,
    sigma_method: str = "sbar",
) -> ChartResult:
    """X-bar and S chart; unequal subgroup sizes get per-subgroup limits."""
    return _xbar_chart(
        chart_type="xbar_s", subgroups=subgroups, phase1=phase1, baseline=baseline, sigma_method=sigma_method
    )


# --- Individuals and moving range -----------------------------------------------------


def imr_chart(*, values: Any, phase1: int | None = None, baseline: Mapping[str, float] | None = None) -> ChartResult:
    """Individuals chart with a moving range of span 2."""
    x = finite_array(values, field="values")
    base = read_baseline(baseline, _VARIABLE_BASELINE)
    if x.size < 2:
        raise StatsInputError(field="values", message="an I-MR chart needs at least 2 values")
    k = phase1_count(phase1, x.size, 2)
    est = x[: k if k is not None else x.size]
    mr = np.empty_like(x)
    mr[0] = np.nan
    np.abs(np.diff(x), out=mr[1:])
    c2 = K.chart_constants(2)
    if "ucl" in base:
        center = base.get("center", (base["ucl"] + base["lcl"]) / 2.0)
        sigma = (base["ucl"] - base["lcl"]) / (2.0 * SIGMA_MULTIPLIER)
        center_from = sigma_from = "baseline"
        method = "derived from the frozen limits: (UCL - LCL) / 6"
    else:
        center, center_from = (
            (base["center"], "baseline") if "center" in base else (float(est.mean()), _source(False, k))
        )
        if "sigma" in base:
            sigma, sigma_from, method = base["sigma"], "baseline", "given in the baseline"
        else:
            mr_bar = float(np.abs(np.diff(est)).mean())
            sigma, sigma_from, method = mr_bar / c2.d2, _source(False, k), "MR-bar / d2(2)"
    n = x.size
    center_arr = np.full(n, center, dtype=float)
    if "ucl" in base:
        ucl, lcl = np.full(n, base["ucl"]), np.full(n, base["lcl"])
    else:
        ucl = center_arr + SIGMA_MULTIPLIER * sigma
        lcl = center_arr - SIGMA_MULTIPLIER * sigma
    primary = ChartSeries(
        name="Individuals", values=x, center=center_arr, ucl=ucl, lcl=lcl, sigma=np.full(n, sigma, dtype=float)
    )
    nan_first = np.ones(n)
    nan_first[0] = np.nan
    raw_lcl = (c2.d2 - SIGMA_MULTIPLIER * c2.d3) * sigma
    secondary = ChartSeries(
        name="MR",
        values=mr,
        center=nan_first * (c2.d2 * sigma),
        ucl=nan_first * ((c2.d2 + SIGMA_MULTIPLIER * c2.d3) * sigma),
        lcl=nan_first * max(raw_lcl, 0.0),
        sigma=nan_first * (c2.d3 * sigma),
        lcl_clipped=raw_lcl < 0,
    )
    _frozen_secondary(secondary, base)
    if "secondary_ucl" in base or "secondary_center" in base:
        for arr in (secondary.center, secondary.ucl, secondary.lcl):
            arr[0] = np.nan
    return ChartResult(
        chart_type="imr",
        primary=primary,
        secondary=secondary,
        sigma=float(sigma),
        sigma_method=method,
        center_from=center_from,
        sigma_from=sigma_from,
        phase1_count=k,
        sample_sizes=np.ones(n, dtype=np.int64),
        observations=x,
    )

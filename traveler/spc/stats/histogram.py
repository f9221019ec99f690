"""Capability histogram: the values' frequency bars with the specification limits and the fitted
normal curves (overall sigma, and within sigma when given), as numbers and as a standalone SVG.

``histogram`` computes the bins and curves; ``histogram_svg`` draws them. The drawing is
deterministic (same input, same bytes), has no script, fonts or external URLs, and escapes text,
like ``chart_svg``. Bins: Sturges' rule (ceil(log2 n) + 1, 5 to 40 bins) over the data's range;
the curves are scaled to counts (n x bin width x normal density).
"""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from scipy import stats

from ._util import finite_array, finite_number, json_float
from .errors import StatsInputError

CURVE_POINTS = 121
MAX_BINS = 200
WIDTH, HEIGHT = 900, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 24, 40, 46
FONT = 'font-family="sans-serif" font-size="11"'
COLORS = {"bar": "#9db8d9", "bar_edge": "#1f4e79", "overall": "#1f4e79", "within": "#2e7d32", "spec": "#c00000",
          "target": "#e07b00", "axis": "#333333"}


def default_bins(n: int) -> int:
    return max(5, min(40, math.ceil(math.log2(max(n, 1))) + 1))


def _optional(value: Any, field: str) -> float | None:
    return None if value is None else finite_number(value, field=field)


def histogram(*, values: Any, lsl: Any = None, usl: Any = None, target: Any = None, sigma_within: Any = None,
              bins: int | None = None) -> dict[str, Any]:
    """Bins and fitted normal curves of ``values`` (at least 1), JSON-ready.

    ``range`` is what a drawing should show: the bins, the specification limits and target,
    and the curves out to 3.5 sigma from the mean, with 3 % to spare on each side.
    """
    x = finite_array(values, field="values")
    if x.size < 1:
        raise StatsInputError(field="values", message="a histogram needs at least 1 value")
    lo_spec, hi_spec, tgt = _optional(lsl, "lsl"), _optional(usl, "usl"), _optional(target, "target")
    within = _optional(sigma_within, "sigma_within")
    if within is not None and within < 0:
        raise StatsInputError(field="sigma_within", message="must be 0 or more")
    if bins is None:
        k = default_bins(int(x.size))
    elif isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise StatsInputError(field="bins", message=f"must be a whole number from 1 to {MAX_BINS}")
    else:
        k = bins
    n = int(x.size)
    mean = float(x.mean())
    overall = float(x.std(ddof=1)) if n >= 2 else None
    first, last = float(x.min()), float(x.max())
    if first == last:
        half = max(abs(first) * 0.01, (overall or 0.0), 0.5 if first == 0 else 0.0) or 0.5
        first, last = first - half, last + half
    counts, edges = np.histogram(x, bins=k, range=(first, last))
    width = float(edges[1] - edges[0])
    points = [first, last, *(v for v in (lo_spec, hi_spec, tgt) if v is not None)]
    for sigma in (overall, within):
        if sigma:
            points += [mean - 3.5 * sigma, mean + 3.5 * sigma]
    pad = (max(points) - min(points)) * 0.03  # lines at the limits stay off the frame
    lo, hi = min(points) - pad, max(points) + pad
    curves: dict[str, Any] = {}
    grid = np.linspace(lo, hi, CURVE_POINTS)
    for name, sigma in (("overall", overall), ("within", within)):
        if sigma:
            density = stats.norm.pdf(grid, loc=mean, scale=sigma) * n * width
            curves[name] = {"sigma": json_float(sigma), "x": [json_float(v) for v in grid],
                            "y": [json_float(v) for v in density]}
    return {
        "n": n,
        "mean": json_float(mean),
        "sigma_overall": json_float(overall),
        "sigma_within": json_float(within),
        "bins": k,
        "bin_width": json_float(width),
        "edges": [json_float(v) for v in edges],
        "counts": [int(c) for c in counts],
        "lsl": lo_spec,
        "usl": hi_spec,
        "target": tgt,
        "below_lsl": int((x < lo_spec).sum()) if lo_spec is not None else None,
        "above_usl": int((x > hi_spec).sum()) if hi_spec is not None else None,
        "range": [json_float(lo), json_float(hi)],
        "curves": curves,
    }


def _num(v: float) -> str:
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


def _label(v: float) -> str:
    return escape(f"{v:.6g}")


def histogram_svg(*, histogram: dict[str, Any], title: str | None = None) -> str:
    """Draw the dict returned by ``histogram`` as an SVG document."""
    if not isinstance(histogram, dict) or "counts" not in histogram or "edges" not in histogram:
        raise StatsInputError(field="histogram", message="must be the dict returned by histogram()")
    counts, edges = histogram["counts"], histogram["edges"]
    lo, hi = histogram["range"]
    curves = histogram.get("curves") or {}
    peak = max([*counts, *(max(c["y"]) for c in curves.values())], default=1) or 1
    top_count = peak * 1.08
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM

    def px(v: float) -> float:
        return left + (right - left) * (v - lo) / (hi - lo)

    def py(c: float) -> float:
        return bottom - (bottom - top) * c / top_count

    heading = title if title is not None else "Capability histogram"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label={quoteattr(heading)}>',
        f"<title>{escape(heading)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa"/>',
        f'<text x="{left}" y="20" font-family="sans-serif" font-size="14" fill="{COLORS["axis"]}">{escape(heading)}</text>',
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="#ffffff" '
        f'stroke="{COLORS["axis"]}" stroke-width="1"/>',
    ]
    for k in range(5):
        c = top_count * k / 4.0
        out.append(f'<text x="{left - 4}" y="{_num(py(c))}" text-anchor="end" dominant-baseline="middle" {FONT} '
                   f'fill="{COLORS["axis"]}">{_label(round(c, 1))}</text>')
    for k in range(6):
        v = lo + (hi - lo) * k / 5.0
        out.append(f'<text x="{_num(px(v))}" y="{bottom + 14}" text-anchor="middle" {FONT} '
                   f'fill="{COLORS["axis"]}">{_label(v)}</text>')
    out.append(f'<text x="14" y="{_num((top + bottom) / 2)}" {FONT} fill="{COLORS["axis"]}" '
               f'transform="rotate(-90 14 {_num((top + bottom) / 2)})" text-anchor="middle">Count</text>')
    for i, c in enumerate(counts):
        x0, x1 = px(edges[i]), px(edges[i + 1])
        tip = escape(f"{_label(edges[i])} to {_label(edges[i + 1])}: {c}")
        out.append(f'<rect x="{_num(x0)}" y="{_num(py(c))}" width="{_num(max(x1 - x0, 0.5))}" '
                   f'height="{_num(py(0) - py(c))}" fill="{COLORS["bar"]}" stroke="{COLORS["bar_edge"]}" '
                   f'stroke-width="0.6"><title>{tip}</title></rect>')
    legend = []
    for name, dash in (("overall", None), ("within", "6,3")):
        curve = curves.get(name)
        if not curve:
            continue
        d = "".join(f"{'M' if i == 0 else 'L'}{_num(px(a))},{_num(py(b))}" for i, (a, b) in
                    enumerate(zip(curve["x"], curve["y"], strict=True)))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{d}" fill="none" stroke="{COLORS[name]}" stroke-width="1.6"{dash_attr}/>')
        legend.append((f"Normal, {name} sigma {_label(curve['sigma'])}", COLORS[name], dash))
    for key, color, label in (("lsl", COLORS["spec"], "LSL"), ("usl", COLORS["spec"], "USL"),
                              ("target", COLORS["target"], "Target")):
        v = histogram.get(key)
        if v is None:
            continue
        x = _num(px(v))
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{color}" stroke-width="1.4" '
                   f'stroke-dasharray="4,2"/>')
        out.append(f'<text x="{x}" y="{top - 4}" text-anchor="middle" {FONT} fill="{color}">{label} {_label(v)}</text>')
    for i, (text, color, dash) in enumerate(legend):
        y = HEIGHT - 12
        x = left + i * 300
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{color}" stroke-width="1.6"'
                   f'{dash_attr}/>')
        out.append(f'<text x="{x + 30}" y="{y}" {FONT} fill="{COLORS["axis"]}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"

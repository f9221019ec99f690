"""Standalone SVG rendering of a chart result (no script, fonts or external URLs).

Output is deterministic: the same result dict always gives the same bytes, so a page
and a PDF embed identical images. Coordinates are printed with two decimals.

Charts of more than ``DISPLAY_POINTS`` points are downsampled for display (``display_indices``):
each panel draws the lowest and the highest point of every bucket of neighbours, and every point that
breaks a rule; limits, centre lines and zones stay exact (drawn as one segment per run of equal
values); the chart says how many points it shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .errors import StatsInputError

WIDTH = 900
PRIMARY_HEIGHT = 320
SECONDARY_HEIGHT = 200
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 24, 34, 42
FONT = 'font-family="sans-serif" font-size="11"'
HIT_RADIUS = 7  # the clickable disc around a linked point
DISPLAY_POINTS = 2000  # points drawn per panel at most, besides the ones that break a rule
COLORS = {
    "line": "#1f4e79",
    "point": "#1f4e79",
    "bad": "#c00000",
    "center": "#2e7d32",
    "limit": "#c00000",
    "zone": "#bdbdbd",
    "spec": "#e07b00",
    "axis": "#333333",
}


def _num(v: float) -> str:
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


def _label(v: float) -> str:
    return escape(f"{v:.6g}")


def _per_point(value: Any, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, np.nan)
    if isinstance(value, (int, float)):
        return np.full(n, float(value))
    arr = np.array([np.nan if v is None else float(v) for v in value], dtype=float)
    if arr.size != n:
        raise StatsInputError(field="result", message="per-point series has the wrong length")
    return arr


class _Panel:
    def __init__(self, *, top: float, height: float, n: int, lows: list[np.ndarray], highs: list[np.ndarray]) -> None:
        self.top, self.height, self.n = top, height, n
        values = np.concatenate([a[np.isfinite(a)] for a in lows + highs] or [np.zeros(1)])
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if hi == lo:
            lo, hi = lo - 1.0, hi + 1.0
        pad = (hi - lo) * 0.06
        self.lo, self.hi = lo - pad, hi + pad
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.bottom = top + height

    def x(self, i: float) -> float:
        if self.n == 1:
            return (self.left + self.right) / 2.0
        return self.left + (self.right - self.left) * i / (self.n - 1)

    def y(self, v: float) -> float:
        return self.bottom - (self.bottom - self.top) * (v - self.lo) / (self.hi - self.lo)

    def step_path(self, arr: np.ndarray, *, merge: bool = False) -> str:
        """A horizontal line per point, stepping at the midpoints between points (``merge``: one
        line per run of equal values, the same drawing in fewer segments)."""
        half = 0.0 if self.n == 1 else (self.x(1) - self.x(0)) / 2.0
        if merge:
            return self._merged_step_path(arr, half)
        parts: list[str] = []
        pen_up = True
        for i, v in enumerate(arr.tolist()):
            if not math.isfinite(v):
                pen_up = True
                continue
            x0 = max(self.left, self.x(i) - half)
            x1 = min(self.right, self.x(i) + half)
            y = _num(self.y(v))
            parts.append(f"{'M' if pen_up else 'L'}{_num(x0)},{y}L{_num(x1)},{y}")
            pen_up = False
        return "".join(parts)

    def _merged_step_path(self, arr: np.ndarray, half: float) -> str:
        n = arr.size
        if n == 0:
            return ""
        finite = np.isfinite(arr)
        change = np.ones(n, dtype=bool)
        change[1:] = (arr[1:] != arr[:-1]) | (finite[1:] != finite[:-1])
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], n) - 1
        parts: list[str] = []
        previous_end = -2
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if not finite[start]:
                continue
            x0 = max(self.left, self.x(start) - half)
            x1 = min(self.right, self.x(end) + half)
            y = _num(self.y(float(arr[start])))
            parts.append(f"{'L' if previous_end == start - 1 else 'M'}{_num(x0)},{y}L{_num(x1)},{y}")
            previous_end = end
        return "".join(parts)


def display_indices(values: np.ndarray, keep: Iterable[int], max_points: int | None) -> np.ndarray | None:
    """The points of a panel to draw: None (all of them) when there are at most ``max_points``;
    else the first, the last, the lowest and the highest of each of ``max_points / 2`` buckets of
    neighbours, and every index in ``keep`` (the violating points), in order."""
    n = values.size
    if max_points is None or n <= max_points:
        return None
    buckets = max(1, (max_points - 2) // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    chosen = [0, n - 1]
    filled = np.where(np.isfinite(values), values, np.nan)
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        chunk = filled[a:b]
        if b <= a or not np.isfinite(chunk).any():
            continue
        chosen += [a + int(np.nanargmin(chunk)), a + int(np.nanargmax(chunk))]
    chosen += [int(i) for i in keep if 0 <= int(i) < n]
    return np.unique(np.array(chosen, dtype=int))


def _line(panel: _Panel, arr: np.ndarray, color: str, width: float, dash: str | None, label: str | None,
          merge: bool = False) -> list[str]:
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return []
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    out = [f'<path d="{panel.step_path(arr, merge=merge)}" fill="none" stroke="{color}" stroke-width="{width}"'
           f'{dash_attr}/>']
    if label:
        last = float(finite[-1])
        out.append(
            f'<text x="{_num(panel.right - 2)}" y="{_num(panel.y(last) - 3)}" text-anchor="end" {FONT} '
            f'fill="{color}">{escape(label)} {_label(last)}</text>'
        )
    return out


def _panel_svg(
    *,
    series: dict[str, Any],
    panel: _Panel,
    arrays: dict[str, np.ndarray],
    violations: dict[int, list[str]],
    specs: dict[str, float],
    x_label: str,
    links: list[str] | None = None,
    shown: np.ndarray | None = None,
) -> list[str]:
    out: list[str] = []
    name = str(series.get("name", ""))
    out.append(
        f'<rect x="{panel.left}" y="{_num(panel.top)}" width="{panel.right - panel.left}" '
        f'height="{_num(panel.height)}" fill="#ffffff" stroke="{COLORS["axis"]}" stroke-width="1"/>'
    )
    for k in range(5):
        v = panel.lo + (panel.hi - panel.lo) * k / 4.0
        y = _num(panel.y(v))
        out.append(
            f'<text x="{panel.left - 4}" y="{y}" text-anchor="end" dominant-baseline="middle" {FONT} '
            f'fill="{COLORS["axis"]}">{_label(v)}</text>'
        )
    out.append(
        f'<text x="14" y="{_num(panel.top + panel.height / 2)}" {FONT} fill="{COLORS["axis"]}" '
        f'transform="rotate(-90 14 {_num(panel.top + panel.height / 2)})" text-anchor="middle">'
        f"{escape(name)}</text>"
    )
    out.append(
        f'<text x="{_num((panel.left + panel.right) / 2)}" y="{_num(panel.bottom + 30)}" text-anchor="middle" '
        f'{FONT} fill="{COLORS["axis"]}">{escape(x_label)}</text>'
    )
    ticks = sorted({0, panel.n - 1, *range(0, panel.n, max(1, math.ceil(panel.n / 10)))})
    for i in ticks:
        out.append(
            f'<text x="{_num(panel.x(i))}" y="{_num(panel.bottom + 14)}" text-anchor="middle" {FONT} '
            f'fill="{COLORS["axis"]}">{i + 1}</text>'
        )
    center, sigma = arrays["center"], arrays["sigma"]
    merge = shown is not None  # a downsampled chart: the same lines in fewer segments
    for k in (1.0, 2.0, -1.0, -2.0):
        out += _line(panel, center + k * sigma, COLORS["zone"], 0.8, "3,3", None, merge)
    out += _line(panel, center, COLORS["center"], 1.2, None, "CL", merge)
    out += _line(panel, arrays["ucl"], COLORS["limit"], 1.2, "6,3", "UCL", merge)
    out += _line(panel, arrays["lcl"], COLORS["limit"], 1.2, "6,3", "LCL", merge)
    for key, value in specs.items():
        out += _line(panel, np.full(panel.n, value), COLORS["spec"], 1.2, "2,2", key.upper(), merge)
    values = arrays["values"]
    line_points = enumerate(values.tolist())
    if shown is not None:  # downsampled: the line joins the points shown; the others get no marker
        line_points = zip(shown.tolist(), values[shown].tolist(), strict=True)
        values = np.full(values.size, np.nan)
        values[shown] = arrays["values"][shown]
    segments: list[str] = []
    pen_up = True
    for i, v in line_points:
        if not math.isfinite(v):
            pen_up = True
            continue
        segments.append(f"{'M' if pen_up else 'L'}{_num(panel.x(i))},{_num(panel.y(v))}")
        pen_up = False
    if segments:
        out.append(f'<path d="{"".join(segments)}" fill="none" stroke="{COLORS["line"]}" stroke-width="1"/>')
    radius = 2.5 if panel.n <= 200 else 1.2
    for i, v in enumerate(values.tolist()):
        if not math.isfinite(v):
            continue
        rules = violations.get(i)
        if rules:
            tip = escape(f"Point {i + 1}: {_label(v)} breaks {', '.join(rules)}")
            circle = (
                f'<circle cx="{_num(panel.x(i))}" cy="{_num(panel.y(v))}" r="{radius + 1.5}" '
                f'fill="{COLORS["bad"]}"><title>{tip}</title></circle>'
            )
        else:
            circle = (
                f'<circle cx="{_num(panel.x(i))}" cy="{_num(panel.y(v))}" r="{radius}" fill="{COLORS["point"]}"/>'
            )
        if links is not None:
            # A link per point (its page), with the point's number. A point is a few pixels wide: an
            # invisible disc around it makes a target a finger or a mouse can hit.
            hit = f'<circle cx="{_num(panel.x(i))}" cy="{_num(panel.y(v))}" r="{HIT_RADIUS}" fill="#ffffff" fill-opacity="0"/>'
            circle = f'<a href={quoteattr(links[i])} data-point="{i + 1}">{hit}{circle}</a>'
        out.append(circle)
    return out


def chart_svg(*, result: dict[str, Any], title: str | None = None, point_links: list[str] | None = None,
              max_points: int | None = DISPLAY_POINTS) -> str:
    """Render the dict returned by ``analyze`` (chart, rules, capability) as an SVG document.

    ``point_links``: one URL per point; each point's circle (on every panel) becomes a link to it.
    Without it the drawing has no link at all.

    ``max_points``: a panel of more points is downsampled for display (``display_indices``; None:
    draw every point)."""
    if not isinstance(result, dict) or "primary" not in result:
        raise StatsInputError(field="result", message="must be the dict returned by analyze()")
    primary = result["primary"]
    n = len(primary["values"])
    if point_links is not None:
        point_links = [str(u) for u in point_links]
        if len(point_links) != n:
            raise StatsInputError(field="point_links", message=f"needs one link per point ({n})")
    secondary = result.get("secondary")
    height = MARGIN_TOP + PRIMARY_HEIGHT + MARGIN_BOTTOM
    if secondary:
        height += SECONDARY_HEIGHT + MARGIN_BOTTOM
    heading = title if title is not None else f"{primary.get('name', '')} chart"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label={quoteattr(heading)}>',
        f"<title>{escape(heading)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fafafa"/>',
        f'<text x="{MARGIN_LEFT}" y="20" font-family="sans-serif" font-size="14" fill="{COLORS["axis"]}">'
        f"{escape(heading)}</text>",
    ]
    chart_type = result.get("chart_type")
    specs: dict[str, float] = {}
    capability = result.get("capability") or {}
    if chart_type == "imr":
        specs = {k: float(capability[k]) for k in ("lsl", "usl") if capability.get(k) is not None}
    x_label = "Observation" if chart_type == "imr" else "Subgroup" if chart_type in ("xbar_r", "xbar_s") else "Sample"
    panels = [(primary, PRIMARY_HEIGHT, MARGIN_TOP, (result.get("rules") or {}).get("violations", []), specs)]
    if secondary:
        panels.append(
            (
                secondary,
                SECONDARY_HEIGHT,
                MARGIN_TOP + PRIMARY_HEIGHT + MARGIN_BOTTOM,
                secondary.get("violations", []),
                {},
            )
        )
    for series, panel_height, top, violations, spec in panels:
        arrays = {key: _per_point(series.get(key), n) for key in ("values", "center", "ucl", "lcl", "sigma")}
        bands = [
            arrays["values"],
            arrays["ucl"],
            arrays["lcl"],
            arrays["center"] + 2 * arrays["sigma"],
            arrays["center"] - 2 * arrays["sigma"],
            np.array(list(spec.values()), dtype=float),
        ]
        panel = _Panel(top=top, height=panel_height, n=n, lows=bands, highs=[])
        flagged = {int(v["index"]): [str(r) for r in v["rules"]] for v in violations}
        shown = display_indices(arrays["values"], flagged, max_points)
        out += _panel_svg(series=series, panel=panel, arrays=arrays, violations=flagged, specs=spec, x_label=x_label,
                          links=point_links, shown=shown)
        if shown is not None and top == MARGIN_TOP:
            out.insert(4, _downsampled_note(shown.size, n))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _downsampled_note(shown: int, n: int) -> str:
    return (f'<text x="{WIDTH - MARGIN_RIGHT}" y="20" text-anchor="end" {FONT} fill="{COLORS["axis"]}" '
            f'data-points-shown="{shown}" data-points="{n}">Downsampled: {shown:,} of {n:,} points shown</text>')

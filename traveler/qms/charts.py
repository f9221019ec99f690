"""Quality's charts as standalone SVG drawn by the app (no script, fonts or external URLs), like the
SPC charts: the Pareto of defects (bars and cumulative line) and first-pass yield per step (bars).

The SPC engine's drawing helpers are private to its control charts and ``qms`` does not depend on
``spc``; these charts share only the conventions (deterministic output, two decimals, escaped text,
a ``<title>`` on every mark).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

WIDTH = 900
HEIGHT = 360
LEFT, RIGHT, TOP, BOTTOM = 64, 56, 34, 110
FONT = 'font-family="sans-serif" font-size="11"'
BAR = "#1f4e79"
LINE = "#e07b00"
AXIS = "#333333"
GRID = "#d0d0d0"
GOOD, BAD = "#2e7d32", "#c00000"
MAX_BARS = 20  # more groups than this: the rest are drawn as one "Other" bar
LABEL_CHARS = 28


def _num(v: float) -> str:
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


def _short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _open(width: int, height: int, heading: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label={quoteattr(heading)}>',
        f"<title>{escape(heading)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fafafa"/>',
        f'<text x="{LEFT}" y="20" font-family="sans-serif" font-size="14" fill="{AXIS}">{escape(heading)}</text>',
    ]


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (an axis's top)."""
    top = 1
    while True:
        for m in (1, 2, 5):
            if top * m >= value:
                return top * m
        top *= 10


def _bars(rows: list[dict]) -> list[dict]:
    if len(rows) <= MAX_BARS:
        return rows
    rest = rows[MAX_BARS - 1:]
    other = {"label": f"Other ({len(rest)} groups)", "count": sum(r["count"] for r in rest),
             "cumulative_percent": 100.0}
    return [*rows[: MAX_BARS - 1], other]


def pareto_svg(*, pareto: dict, title: str = "Defect Pareto") -> str:
    """Draw the dict ``defect_pareto`` returns: a bar per group (largest first, on the left axis) and
    the cumulative percentage as a line (right axis), with the 80 % line dashed."""
    out = _open(WIDTH, HEIGHT, title)
    bars = _bars(pareto["rows"])
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    out.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="#ffffff" '
               f'stroke="{AXIS}" stroke-width="1"/>')
    if not bars:
        out.append(f'<text x="{_num((left + right) / 2)}" y="{_num((top + bottom) / 2)}" text-anchor="middle" {FONT} '
                   f'fill="{AXIS}">No defects recorded in this period</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"
    y_max = _nice_max(max(b["count"] for b in bars))

    def y_count(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    def y_pct(v: float) -> float:
        return bottom - (bottom - top) * v / 100.0

    for k in range(5):
        v = y_max * k / 4
        out.append(f'<line x1="{left}" y1="{_num(y_count(v))}" x2="{right}" y2="{_num(y_count(v))}" stroke="{GRID}" '
                   f'stroke-width="0.6"/>')
        out.append(f'<text x="{left - 4}" y="{_num(y_count(v))}" text-anchor="end" dominant-baseline="middle" {FONT} '
                   f'fill="{AXIS}">{escape(f"{v:g}")}</text>')
        out.append(f'<text x="{right + 4}" y="{_num(y_pct(25 * k))}" dominant-baseline="middle" {FONT} '
                   f'fill="{LINE}">{25 * k}%</text>')
    out.append(f'<text x="14" y="{_num((top + bottom) / 2)}" {FONT} fill="{AXIS}" text-anchor="middle" '
               f'transform="rotate(-90 14 {_num((top + bottom) / 2)})">Defects</text>')
    out.append(f'<line x1="{left}" y1="{_num(y_pct(80))}" x2="{right}" y2="{_num(y_pct(80))}" stroke="{LINE}" '
               f'stroke-width="0.8" stroke-dasharray="4,3"/>')
    slot = (right - left) / len(bars)
    width = slot * 0.7
    points = []
    for i, b in enumerate(bars):
        x = left + slot * i + (slot - width) / 2
        cx = left + slot * (i + 0.5)
        tip = escape(f"{b['label']}: {b['count']} ({b['cumulative_percent']:g}% cumulative)")
        y = y_count(b["count"])
        out.append(f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" '
                   f'height="{_num(bottom - y)}" fill="{BAR}"><title>{tip}</title></rect>')
        label = escape(_short(b["label"]))
        out.append(f'<text x="{_num(cx)}" y="{_num(bottom + 12)}" text-anchor="end" {FONT} fill="{AXIS}" '
                   f'transform="rotate(-35 {_num(cx)} {_num(bottom + 12)})">{label}</text>')
        points.append((cx, y_pct(b["cumulative_percent"]), b))
    path = "".join(f"{'M' if i == 0 else 'L'}{_num(x)},{_num(y)}" for i, (x, y, _) in enumerate(points))
    out.append(f'<path class="cumulative" d="{path}" fill="none" stroke="{LINE}" stroke-width="1.6"/>')
    for x, y, b in points:
        cumulative = f"{b['cumulative_percent']:g}% cumulative"
        out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{LINE}"><title>{escape(cumulative)}'
                   "</title></circle>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def yield_svg(*, steps: list[dict], title: str = "First-pass yield per step") -> str:
    """Draw first-pass yield per step (rows of ``first_pass_yield``) as horizontal bars, 0 to 100 %."""
    row, label_w, bar_w, pad = 20, 230, 300, 8
    width = label_w + bar_w + 70
    height = TOP + row * max(1, len(steps)) + pad
    out = _open(width, height, title)
    if not steps:
        out.append(f'<text x="{LEFT}" y="{TOP + 14}" {FONT} fill="{AXIS}">No part left a step in this period</text>')
    for i, s in enumerate(steps):
        y = TOP + row * i
        name = f"{s['sequence']}. {s['step_name']}"
        share = s["yield_percent"] / 100.0
        tip = escape(f"{s['process_name']}: {name}: {s['first_pass']} of {s['parts']} first time "
                     f"({s['yield_percent']:g}%)")
        out.append(f'<text x="{label_w - 6}" y="{_num(y + row / 2)}" text-anchor="end" dominant-baseline="middle" '
                   f'{FONT} fill="{AXIS}">{escape(_short(name, 34))}</text>')
        out.append(f'<rect x="{label_w}" y="{_num(y + 3)}" width="{bar_w}" height="{row - 6}" fill="#eeeeee"/>')
        out.append(f'<rect class="bar" x="{label_w}" y="{_num(y + 3)}" width="{_num(bar_w * share)}" '
                   f'height="{row - 6}" fill="{GOOD if share >= 0.95 else BAR if share >= 0.8 else BAD}">'
                   f"<title>{tip}</title></rect>")
        percent = f"{s['yield_percent']:g}%"
        out.append(f'<text x="{label_w + bar_w + 6}" y="{_num(y + row / 2)}" dominant-baseline="middle" {FONT} '
                   f'fill="{AXIS}">{percent}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"

"""The fishbone (Ishikawa) diagram of a root-cause analysis, as standalone SVG (no script, fonts or
external URLs), like the SPC charts: the problem at the head, one bone per M, each cause a rib of its
bone. Deterministic: the same analysis always gives the same bytes."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from traveler.qms.choices import FishboneCategory

WIDTH, HEIGHT = 960, 460
SPINE_Y = HEIGHT / 2
SPINE_LEFT = 40
HEAD_LEFT = 745
FONT = 'font-family="sans-serif" font-size="12"'
SMALL = 'font-family="sans-serif" font-size="11"'
TOP = (FishboneCategory.METHOD, FishboneCategory.MACHINE, FishboneCategory.MAN)
BOTTOM = (FishboneCategory.MATERIAL, FishboneCategory.MEASUREMENT, FishboneCategory.ENVIRONMENT)
BONE_X = (230, 450, 670)  # where each bone leaves its label, left to right
BONE_RISE = 170  # vertical length of a bone
SHOWN_CHARS = 34
MAX_RIBS = 8  # causes drawn on a bone; the rest are counted ("+3 more") and listed in the page's table


def _n(v: float) -> str:
    return f"{v:.1f}"


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _wrap(text: str, width: int = 26, lines: int = 6) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = _short(out[-1] + " …")
    return out


def fishbone_svg(*, problem: str, causes: list[tuple[str, str]]) -> str:
    """The diagram for ``problem`` and ``causes`` (``(category, description)`` pairs, categories of
    ``FishboneCategory``). Every cause's full text is in its element's ``<title>``."""
    by_category: dict[str, list[str]] = {c: [] for c in FishboneCategory.values}
    for category, description in causes:
        by_category.setdefault(category, []).append(description)
    labels = dict(FishboneCategory.choices)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="fishbone-title" class="fishbone">',
        f'<title id="fishbone-title">{escape("Fishbone diagram: " + problem)}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<line x1="{SPINE_LEFT}" y1="{_n(SPINE_Y)}" x2="{HEAD_LEFT}" y2="{_n(SPINE_Y)}" stroke="#1f4e79" '
        'stroke-width="3"/>',
        f'<path d="M{HEAD_LEFT - 14},{_n(SPINE_Y - 8)} L{HEAD_LEFT},{_n(SPINE_Y)} L{HEAD_LEFT - 14},{_n(SPINE_Y + 8)}" '
        'fill="none" stroke="#1f4e79" stroke-width="3"/>',
        f'<rect x="{HEAD_LEFT + 2}" y="{_n(SPINE_Y - 60)}" width="{WIDTH - HEAD_LEFT - 12}" height="120" rx="6" '
        'fill="#fdecea" stroke="#c00000"/>',
    ]
    head_lines = _wrap(problem)
    first_y = SPINE_Y - (len(head_lines) - 1) * 8
    parts.append(f'<text {FONT} font-weight="bold" fill="#7a0000" class="fishbone-problem">'
                 + "".join(f'<tspan x="{HEAD_LEFT + 12}" y="{_n(first_y + i * 16 + 4)}">{escape(t)}</tspan>'
                           for i, t in enumerate(head_lines)) + "</text>")
    for row, sign in ((TOP, -1), (BOTTOM, 1)):
        for category, x_end in zip(row, BONE_X, strict=True):
            x_start, y_start = x_end - 60, SPINE_Y + sign * BONE_RISE
            x_meet = x_end + 40
            parts.append(f'<g class="fishbone-bone" data-category={quoteattr(category)}>')
            parts.append(f'<line x1="{_n(x_start)}" y1="{_n(y_start)}" x2="{_n(x_meet)}" y2="{_n(SPINE_Y)}" '
                         'stroke="#1f4e79" stroke-width="2"/>')
            label_y = y_start + sign * 14
            parts.append(f'<text x="{_n(x_start)}" y="{_n(label_y)}" {FONT} font-weight="bold" fill="#1f4e79" '
                         f'text-anchor="middle">{escape(labels[category])}</text>')
            ribs = by_category.get(category, [])
            shown = ribs[:MAX_RIBS]
            for i, text in enumerate(shown):
                t = (i + 1) / (MAX_RIBS + 1)
                bx = x_start + (x_meet - x_start) * t
                by = y_start + (SPINE_Y - y_start) * t
                parts.append(f'<g class="fishbone-cause"><title>{escape(text)}</title>'
                             f'<line x1="{_n(bx - 150)}" y1="{_n(by)}" x2="{_n(bx)}" y2="{_n(by)}" stroke="#9aa8b8"/>'
                             f'<text x="{_n(bx - 6)}" y="{_n(by - 3)}" {SMALL} fill="#222" text-anchor="end">'
                             f'{escape(_short(text))}</text>'
                             '</g>')
            if len(ribs) > MAX_RIBS:
                parts.append(f'<text x="{_n(x_meet - 40)}" y="{_n(SPINE_Y + sign * 14)}" {FONT} fill="#555" '
                             f'text-anchor="end">+{len(ribs) - MAX_RIBS} more</text>')
            parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def rca_fishbone_svg(rca) -> str:
    """The diagram of an ``RcaRecord``: its CAPA's problem statement and its fishbone causes."""
    causes = [(c.category, c.description) for c in rca.causes.all()]
    problem = rca.capa.title or rca.capa.problem_statement
    return fishbone_svg(problem=problem, causes=causes)

"""Large charts downsampled for display: at most the cap of markers per panel plus every violating
point, limits exact, the chart saying so; small charts drawn exactly as before."""

from __future__ import annotations

import hashlib
import random
import re
import xml.etree.ElementTree as ET

import numpy as np

from traveler.spc.stats import analyze, chart_svg
from traveler.spc.stats.svg import DISPLAY_POINTS, display_indices

NS = "{http://www.w3.org/2000/svg}"
RED = "#c00000"


def _panels(svg: str) -> list[list[ET.Element]]:
    """The circles of each panel, in drawing order (a panel starts with its white rectangle)."""
    panels: list[list[ET.Element]] = []
    for el in ET.fromstring(svg).iter():
        if el.tag == f"{NS}rect" and el.get("fill") == "#ffffff":
            panels.append([])
        elif el.tag == f"{NS}circle":
            panels[-1].append(el)
    return panels


def _big(n: int = 100_000):
    rng = random.Random(11)
    data = [rng.gauss(10.0, 1.0) for _ in range(n)]
    for i in range(500, n, 1_013):
        data[i] = 16.5  # beyond the limits: rule 1
    return analyze(chart_type="imr", data=data, rules="nelson", lsl=5.0, usl=15.0)


def test_a_100k_point_chart_draws_at_most_the_cap_plus_every_violation():
    result = _big()
    svg = chart_svg(result=result, title="Bore diameter")
    primary, secondary = _panels(svg)
    flagged = {v["index"] for v in result["rules"]["violations"]}
    assert len(flagged) > 90
    red = [c for c in primary if c.get("fill") == RED]
    assert len(red) == len(flagged)  # every violating point is drawn, in red, with its rules
    assert all(c.find(f"{NS}title").text.startswith("Point ") for c in red)  # type: ignore[union-attr]
    assert len(primary) <= DISPLAY_POINTS + len(flagged)
    assert len(primary) > DISPLAY_POINTS // 2  # the envelope is drawn, not a handful of points
    mr_flagged = {v["index"] for v in result["secondary"]["violations"]}
    assert len(secondary) <= DISPLAY_POINTS + len(mr_flagged)
    assert sum(c.get("fill") == RED for c in secondary) == len(mr_flagged)
    note = re.search(r'data-points-shown="(\d+)" data-points="(\d+)">Downsampled: ([\d,]+) of ([\d,]+) points shown', svg)
    assert note and int(note[1]) == len(primary) and note[2] == "100000" and note[4] == "100,000"
    assert len(svg) < 2_000_000


def test_the_extremes_of_the_data_and_the_limits_stay_exact_when_downsampled():
    result = _big(20_000)
    values = np.array(result["primary"]["values"])
    lowest, highest = int(values.argmin()), int(values.argmax())
    shown = display_indices(values, [], 2_000)
    assert shown is not None and lowest in shown and highest in shown and shown[0] == 0 and shown[-1] == 19_999
    down, full = chart_svg(result=result), chart_svg(result=result, max_points=None)
    # Constant limits: one segment instead of one per point, at the same height, across the same width.
    for label in ("UCL", "LCL", "CL"):
        assert re.search(rf">{label} [-\d.e]+</text>", down).group(0) == re.search(rf">{label} [-\d.e]+</text>", full).group(0)
    ucl_down = [p.get("d") for p in ET.fromstring(down).iter(f"{NS}path") if p.get("stroke-dasharray") == "6,3"][0]
    ucl_full = [p.get("d") for p in ET.fromstring(full).iter(f"{NS}path") if p.get("stroke-dasharray") == "6,3"][0]
    assert ucl_down.count("L") == 1 and ucl_full.count("L") == 2 * 20_000 - 1
    assert ucl_down.split("L")[0] == ucl_full.split("L")[0]  # same start
    assert ucl_down.split("L")[-1] == ucl_full.split("L")[-1]  # same end


def test_varying_limits_keep_every_step_when_downsampled():
    rng = np.random.default_rng(5)
    sizes = rng.integers(3, 7, size=3_000)
    data = [list(rng.normal(10, 1, size=int(k))) for k in sizes]
    result = analyze(chart_type="xbar_s", data=data, phase1=3_000)
    assert result["primary"]["limits_vary"]
    ucl = np.array(result["primary"]["ucl"])
    runs = 1 + int(np.count_nonzero(ucl[1:] != ucl[:-1]))
    path = [p.get("d") for p in ET.fromstring(chart_svg(result=result)).iter(f"{NS}path")
            if p.get("stroke-dasharray") == "6,3"][0]
    assert path.count("M") == 1 and path.count("L") == 2 * runs - 1  # one level per run, joined


def test_small_charts_are_drawn_exactly_as_before():
    rng = random.Random(3)
    cases = [analyze(chart_type="imr", data=[round(rng.gauss(10, 1), 4) for _ in range(n)], lsl=6, usl=14)
             for n in (30, 1500, 2000)]
    cases.append(analyze(chart_type="xbar_r", data=[[rng.gauss(5, 1) for _ in range(4)] for _ in range(300)],
                         phase1=50))
    # The SHA-256 of each SVG as drawn before downsampling existed (the same inputs, the same bytes).
    expected = ["f2849e28f51a3942", "fb64e44c4911bebb", "5caae13735af4a47", "5eaa845a70ba433b"]
    got = [hashlib.sha256(chart_svg(result=r, title="T").encode()).hexdigest()[:16] for r in cases]
    assert got == expected
    assert all(chart_svg(result=r, title="T") == chart_svg(result=r, title="T", max_points=None) for r in cases)
    assert "Downsampled" not in chart_svg(result=cases[2], title="T")

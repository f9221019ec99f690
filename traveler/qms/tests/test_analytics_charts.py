"""The Pareto and first-pass-yield charts: standalone, deterministic, escaped SVG that parses, with a
bar per group, the cumulative line through each bar's cumulative share, and the rest grouped past 20."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from traveler.qms.charts import MAX_BARS, pareto_svg, yield_svg

NS = "{http://www.w3.org/2000/svg}"


def _pareto(counts: list[int]) -> dict:
    total, running, rows = sum(counts), 0, []
    for i, n in enumerate(counts):
        running += n
        rows.append({"key": i, "label": f'Code {i} <"&>', "count": n, "percent": round(100 * n / total, 1),
                     "cumulative_percent": round(100 * running / total, 1)})
    return {"by": "code", "total": total, "rows": rows}


def _bars(svg: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter(f"{NS}rect") if e.get("class") == "bar"]


def test_pareto_svg_is_standalone_deterministic_and_escaped():
    svg = pareto_svg(pareto=_pareto([6, 3, 1]), title='Defects <by> "code"')
    assert svg == pareto_svg(pareto=_pareto([6, 3, 1]), title='Defects <by> "code"')
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert "<script" not in svg and "href" not in svg and svg.count("http") == 1
    assert "Defects &lt;by&gt;" in svg and "Code 0 &lt;\"&amp;&gt;" in svg


def test_bars_are_in_order_and_the_cumulative_line_follows_the_shares():
    svg = pareto_svg(pareto=_pareto([6, 3, 1]))
    bars = _bars(svg)
    heights = [float(b.get("height")) for b in bars]
    assert heights == sorted(heights, reverse=True) and heights[0] == 2 * heights[1]
    assert [b.find(f"{NS}title").text for b in bars][1] == 'Code 1 <"&>: 3 (90% cumulative)'
    [line] = [p for p in ET.fromstring(svg).iter(f"{NS}path") if p.get("class") == "cumulative"]
    ys = [float(pt.split(",")[1]) for pt in line.get("d")[1:].split("L")]
    assert len(ys) == 3 and ys[0] > ys[1] > ys[2]  # rising to 100 % (smaller y is higher)


def test_more_groups_than_fit_are_grouped_as_other():
    svg = pareto_svg(pareto=_pareto(list(range(40, 0, -1))))
    bars = _bars(svg)
    assert len(bars) == MAX_BARS
    assert bars[-1].find(f"{NS}title").text.startswith(f"Other ({40 - MAX_BARS + 1} groups): ")


def test_empty_charts_say_so():
    assert "No defects recorded" in pareto_svg(pareto={"by": "code", "total": 0, "rows": []})
    assert "No part left a step" in yield_svg(steps=[])


def test_yield_bars_are_as_long_as_the_yield():
    steps = [{"step": 1, "step_name": "Grind <seat>", "sequence": 10, "process_name": "Body", "parts": 4,
              "first_pass": 4, "yield_percent": 100.0},
             {"step": 2, "step_name": "Leak test", "sequence": 20, "process_name": "Body", "parts": 4,
              "first_pass": 1, "yield_percent": 25.0}]
    svg = yield_svg(steps=steps)
    full, quarter = (float(b.get("width")) for b in _bars(svg))
    assert full == 4 * quarter
    assert "Grind &lt;seat&gt;" in svg and "25%" in svg

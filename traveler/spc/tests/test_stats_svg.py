"""SVG output: standalone, deterministic, escaped, with rule violations marked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from traveler.spc.stats import analyze, chart_svg

NS = "{http://www.w3.org/2000/svg}"
DATA = [
    [10.0, 10.2, 9.9],
    [10.1, 9.8, 10.0],
    [10.3, 10.1, 9.7],
    [12.5, 12.9, 12.7],
    [10.0, 10.1, 9.9],
    [9.9, 10.0, 10.2],
    [10.1, 10.0, 10.2, 9.8],
    [10.0, 9.9],
]


def test_svg_is_deterministic_well_formed_and_standalone() -> None:
    result = analyze(chart_type="xbar_r", data=DATA, phase1=3, rules="nelson")
    a = chart_svg(result=result, title='Bore <diameter> & "roundness"')
    b = chart_svg(
        result=analyze(chart_type="xbar_r", data=DATA, phase1=3, rules="nelson"), title='Bore <diameter> & "roundness"'
    )
    assert a == b
    root = ET.fromstring(a)
    assert root.tag == f"{NS}svg"
    assert "<script" not in a and "href" not in a and "@import" not in a
    assert a.count("http") == 1  # only the xmlns
    assert "Bore &lt;diameter&gt; &amp;" in a
    # Two panels (X-bar and R), each drawn on a white rectangle.
    panels = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#ffffff"]
    assert len(panels) == 2


def test_violations_are_red_with_rule_numbers_in_a_title() -> None:
    result = analyze(chart_type="xbar_r", data=DATA, phase1=3, rules="nelson")
    flagged = result["rules"]["violations"]
    assert flagged and flagged[0]["index"] == 3
    root = ET.fromstring(chart_svg(result=result))
    red = [c for c in root.iter(f"{NS}circle") if c.get("fill") == "#c00000"]
    titles = [c.find(f"{NS}title").text for c in red]  # type: ignore[union-attr]
    assert any(t.startswith("Point 4:") and "N1" in t for t in titles)


def test_varying_limits_are_stepped_and_specs_drawn_for_individuals() -> None:
    result = analyze(chart_type="xbar_r", data=DATA, phase1=6)
    svg = chart_svg(result=result)
    assert result["primary"]["limits_vary"]
    ucl_paths = [p for p in ET.fromstring(svg).iter(f"{NS}path") if p.get("stroke-dasharray") == "6,3"]
    # Stepped: a horizontal segment per point, so many more than two coordinates.
    assert ucl_paths and ucl_paths[0].get("d", "").count("L") >= len(DATA)
    imr = analyze(chart_type="imr", data=[5.0, 5.2, 4.9, 5.1, 5.3, 4.8], lsl=4.0, usl=6.0)
    text = chart_svg(result=imr)
    assert "LSL 4" in text and "USL 6" in text
    attr = analyze(chart_type="p", data=[3, 5, 2, 4], sample_sizes=[50, 60, 40, 55])
    assert ET.fromstring(chart_svg(result=attr)) is not None


def test_point_links_wrap_each_point_and_change_nothing_else() -> None:
    import pytest

    from traveler.spc.stats import StatsInputError

    result = analyze(chart_type="xbar_r", data=DATA, phase1=3, rules="nelson")
    plain = chart_svg(result=result, title="Bore")
    assert chart_svg(result=result, title="Bore", point_links=None) == plain
    links = [f"/spc/characteristics/7/points/{100 + i}/?a=1&b=2" for i in range(len(DATA))]
    linked = chart_svg(result=result, title="Bore", point_links=links)
    root = ET.fromstring(linked)
    anchors = list(root.iter(f"{NS}a"))
    # Every point of both panels (X-bar and R) is a link to its own page, numbered like the axis.
    assert len(anchors) == 2 * len(DATA)
    assert [a.get("href") for a in anchors[: len(DATA)]] == links
    assert [a.get("data-point") for a in anchors[: len(DATA)]] == [str(i + 1) for i in range(len(DATA))]
    # In each link: an invisible disc to hit, then the point as drawn without links.
    for a in anchors:
        hit, point = list(a.iter(f"{NS}circle"))
        assert hit.get("fill-opacity") == "0" and float(hit.get("r")) > float(point.get("r"))
        assert (hit.get("cx"), hit.get("cy")) == (point.get("cx"), point.get("cy"))
    assert "&amp;b=2" in linked  # the URL is escaped in the attribute
    assert list(anchors[3].iter(f"{NS}circle"))[1].get("fill") == "#c00000"  # the red point 4 stays red
    # Without the links, the drawing is the same: remove the anchors and hit discs and the texts are equal.
    unwrapped = re.sub(r'<a href="[^"]*" data-point="\d+"><circle [^>]*fill-opacity="0"/>', "", linked)
    assert unwrapped.replace("</a>", "") == plain
    with pytest.raises(StatsInputError) as exc:
        chart_svg(result=result, point_links=links[:-1])
    assert exc.value.field == "point_links"

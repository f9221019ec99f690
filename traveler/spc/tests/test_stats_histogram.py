"""The capability histogram: bins as numpy counts them, normal curves scaled to counts, the range a
drawing shows, input errors; the SVG standalone, deterministic, escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import stats

from traveler.spc.stats import StatsInputError
from traveler.spc.stats.histogram import default_bins, histogram, histogram_svg

NS = "{http://www.w3.org/2000/svg}"
VALUES = np.random.default_rng(3).normal(10.0, 0.5, 100).round(4).tolist()


def test_bins_are_numpys_over_the_data_range() -> None:
    h = histogram(values=VALUES, lsl=8.0, usl=12.0, target=10.0)
    counts, edges = np.histogram(VALUES, bins=8, range=(min(VALUES), max(VALUES)))
    assert default_bins(100) == 8 and h["bins"] == 8  # Sturges: ceil(log2 100) + 1
    assert h["counts"] == counts.tolist() and h["edges"] == pytest.approx(edges.tolist())
    assert sum(h["counts"]) == h["n"] == 100
    assert h["mean"] == pytest.approx(np.mean(VALUES)) and h["sigma_overall"] == pytest.approx(np.std(VALUES, ddof=1))
    assert (h["below_lsl"], h["above_usl"]) == (0, 0)
    lo, hi = h["range"]
    assert lo < 8.0 and hi > 12.0  # the specification limits are inside what is drawn
    assert [default_bins(n) for n in (1, 10, 1000, 10**9)] == [5, 5, 11, 31]
    assert histogram(values=VALUES, bins=3)["counts"] == np.histogram(VALUES, bins=3)[0].tolist()


def test_normal_curves_are_scaled_to_counts() -> None:
    h = histogram(values=VALUES, usl=12.0, sigma_within=0.4)
    n, width, mean = h["n"], h["bin_width"], h["mean"]
    for name, sigma in (("overall", h["sigma_overall"]), ("within", 0.4)):
        curve = h["curves"][name]
        x, y = np.array(curve["x"]), np.array(curve["y"])
        assert curve["sigma"] == pytest.approx(sigma)
        assert y == pytest.approx(stats.norm.pdf(x, mean, sigma) * n * width)
        # Integrated over +/- 3.5 sigma and more, the curve holds n values' worth of bars.
        assert np.trapezoid(y, x) / width == pytest.approx(n, rel=1e-3)
    assert "within" not in histogram(values=VALUES)["curves"]


def test_one_value_and_equal_values() -> None:
    one = histogram(values=[5.0])
    assert one["counts"] == [0, 0, 1, 0, 0] or sum(one["counts"]) == 1
    assert one["sigma_overall"] is None and one["curves"] == {}
    same = histogram(values=[2.0] * 10, lsl=1.0)
    assert sum(same["counts"]) == 10 and same["edges"][0] < 2.0 < same["edges"][-1]


@pytest.mark.parametrize("kwargs,field", [
    ({"values": []}, "values"),
    ({"values": [1.0, math.nan]}, "values"),
    ({"values": [1.0, 2.0], "bins": 0}, "bins"),
    ({"values": [1.0, 2.0], "bins": 2.5}, "bins"),
    ({"values": [1.0, 2.0], "lsl": "low"}, "lsl"),
    ({"values": [1.0, 2.0], "sigma_within": -1.0}, "sigma_within"),
])
def test_bad_input_names_the_field(kwargs, field) -> None:
    with pytest.raises(StatsInputError) as err:
        histogram(**kwargs)
    assert err.value.field == field


def test_svg_is_standalone_deterministic_and_escaped() -> None:
    h = histogram(values=VALUES, lsl=8.0, usl=12.0, target=10.0, sigma_within=0.45)
    a = histogram_svg(histogram=h, title='Bore <diameter> & "roundness"')
    assert a == histogram_svg(histogram=histogram(values=VALUES, lsl=8.0, usl=12.0, target=10.0, sigma_within=0.45),
                              title='Bore <diameter> & "roundness"')
    root = ET.fromstring(a)
    assert root.tag == f"{NS}svg" and root.find(f"{NS}title").text == 'Bore <diameter> & "roundness"'
    bars = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(bars) == h["bins"]
    assert [b.find(f"{NS}title").text.rsplit(": ", 1)[1] for b in bars] == [str(c) for c in h["counts"]]
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "LSL 8" in texts and "USL 12" in texts and "Target 10" in texts
    assert len(list(root.iter(f"{NS}path"))) == 2  # overall and within curves
    assert "<script" not in a and "href" not in a and "http://" not in a.replace("http://www.w3.org/2000/svg", "")
    with pytest.raises(StatsInputError):
        histogram_svg(histogram={"counts": []})

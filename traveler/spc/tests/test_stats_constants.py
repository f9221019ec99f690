"""Control chart constants against published tables.

Source: D. C. Montgomery, Introduction to Statistical Quality Control (6th ed.),
Appendix Table VI "Factors for constructing variables control charts" (the same values
as ASTM E2587 / ASTM STP 15D). The printed factors were themselves derived from
rounded d2/d3 (D4(3) = 1 + 3 * 0.888 / 1.693 = 2.574, exact 2.5746), so each value is
checked to one unit in its last printed digit.
"""

from __future__ import annotations

import math

import pytest
from scipy import integrate, special, stats

from traveler.spc.stats import StatsInputError, chart_constants, constants_table
from traveler.spc.stats.constants import c4

# n: (A2, A3, c4, B3, B4, d2, d3, D3, D4) as printed in Montgomery Appendix VI.
PUBLISHED = {
    2: (1.880, 2.659, 0.7979, 0.000, 3.267, 1.128, 0.853, 0.000, 3.267),
    3: (1.023, 1.954, 0.8862, 0.000, 2.568, 1.693, 0.888, 0.000, 2.574),
    4: (0.729, 1.628, 0.9213, 0.000, 2.266, 2.059, 0.880, 0.000, 2.282),
    5: (0.577, 1.427, 0.9400, 0.000, 2.089, 2.326, 0.864, 0.000, 2.114),
    6: (0.483, 1.287, 0.9515, 0.030, 1.970, 2.534, 0.848, 0.000, 2.004),
    7: (0.419, 1.182, 0.9594, 0.118, 1.882, 2.704, 0.833, 0.076, 1.924),
    8: (0.373, 1.099, 0.9650, 0.185, 1.815, 2.847, 0.820, 0.136, 1.864),
    9: (0.337, 1.032, 0.9693, 0.239, 1.761, 2.970, 0.808, 0.184, 1.816),
    10: (0.308, 0.975, 0.9727, 0.284, 1.716, 3.078, 0.797, 0.223, 1.777),
    15: (0.223, 0.789, 0.9823, 0.428, 1.572, 3.472, 0.756, 0.347, 1.653),
    20: (0.180, 0.680, 0.9869, 0.510, 1.490, 3.735, 0.729, 0.415, 1.585),
    25: (0.153, 0.606, 0.9896, 0.565, 1.435, 3.931, 0.708, 0.459, 1.541),
}
NAMES = ("A2", "A3", "c4", "B3", "B4", "d2", "d3", "D3", "D4")


@pytest.mark.parametrize("n", sorted(PUBLISHED))
def test_constants_match_montgomery_appendix_vi(n: int) -> None:
    c = chart_constants(n)
    for name, published in zip(NAMES, PUBLISHED[n], strict=True):
        decimals = 4 if name == "c4" else 3
        assert abs(getattr(c, name) - published) <= 10**-decimals + 1e-12, (n, name)


def test_d2_n2_is_two_over_root_pi() -> None:
    # For n = 2 the range is |Z1 - Z2| with Z1 - Z2 ~ N(0, 2): E = 2/sqrt(pi), Var = 2 - 4/pi.
    c = chart_constants(2)
    assert c.d2 == pytest.approx(2.0 / math.sqrt(math.pi), rel=1e-12)
    assert c.d3 == pytest.approx(math.sqrt(2.0 - 4.0 / math.pi), rel=1e-9)


@pytest.mark.parametrize("n", [3, 8, 25])
def test_d2_d3_against_the_range_density(n: int) -> None:
    # Independent route: integrate w * f_W(w) using the density of the range,
    # f_W(w) = n(n-1) int phi(x) phi(x+w) (Phi(x+w) - Phi(x))^(n-2) dx.
    norm = stats.norm

    def density(w: float) -> float:
        def g(x: float) -> float:
            return norm.pdf(x) * norm.pdf(x + w) * (norm.cdf(x + w) - norm.cdf(x)) ** (n - 2)

        return n * (n - 1) * integrate.quad(g, -12, 12, limit=200)[0]

    m1 = integrate.quad(lambda w: w * density(w), 0, 15, limit=200)[0]
    m2 = integrate.quad(lambda w: w * w * density(w), 0, 15, limit=200)[0]
    c = chart_constants(n)
    assert c.d2 == pytest.approx(m1, rel=1e-7)
    assert c.d3 == pytest.approx(math.sqrt(m2 - m1 * m1), rel=1e-6)


def test_c4_from_gamma_functions() -> None:
    for n in (2, 5, 25, 100, 1000):
        expected = math.sqrt(2.0 / (n - 1)) * special.gamma(n / 2) / special.gamma((n - 1) / 2) if n < 300 else None
        if expected is not None:
            assert c4(n) == pytest.approx(expected, rel=1e-12)
    # c4 -> 1 - 1/(4n) asymptotically.
    assert c4(1000) == pytest.approx(1 - 1 / 4000, abs=1e-6)


def test_every_size_2_to_25_is_computed_and_cached() -> None:
    table = constants_table()
    assert [row["n"] for row in table] == list(range(2, 26))
    assert chart_constants(17) is chart_constants(17)
    d2 = [row["d2"] for row in table]
    assert d2 == sorted(d2)


@pytest.mark.parametrize("n", [0, 1, 26, 5.0, True, "5"])
def test_sizes_outside_2_to_25_are_rejected(n: object) -> None:
    with pytest.raises(StatsInputError) as err:
        chart_constants(n)  # type: ignore[arg-type]
    assert err.value.field == "subgroup_size"

"""Control chart constants computed from first principles, not copied from a table.

d2(n) and d3(n) are the mean and standard deviation of the range of n independent
standard normal variables, obtained by numerical integration (scipy.integrate.quad);
c4(n) is the mean of the sample standard deviation of n standard normals divided by
sigma, from the gamma function. Every other factor is derived from these three, so
the values are exact to double precision rather than to the 3-4 digits of a printed
table. See docs/statistics.md for the formulas.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache

from scipy import integrate, special

from .errors import StatsInputError

MIN_SUBGROUP = 2
MAX_SUBGROUP = 25


@dataclass(frozen=True)
class ChartConstants:
    n: int
    d2: float
    d3: float
    c4: float
    A: float
    A2: float
    A3: float
    B3: float
    B4: float
    B5: float
    B6: float
    D1: float
    D2: float
    D3: float
    D4: float
    E2: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _phi(x: float) -> float:
    return float(special.ndtr(x))


def _range_mean(n: int) -> float:
    # E[W] = integral of P(min <= x < max) dx = integral of 1 - Phi^n - (1 - Phi)^n.
    def integrand(x: float) -> float:
        p = _phi(x)
        return 1.0 - p**n - (1.0 - p) ** n

    # The integrand is symmetric about 0, so integrate one half and double it.
    value, _ = integrate.quad(integrand, 0.0, math.inf, epsabs=1e-13, epsrel=1e-13, limit=200)
    return 2.0 * value


def _range_second_moment(n: int) -> float:
    # E[W^2] = 2 * double integral over x < y of P(min <= x, max >= y)
    #        = 2 * int_x int_{w>0} 1 - Phi(x+w)^n - (1-Phi(x))^n + (Phi(x+w)-Phi(x))^n.
    def inner(x: float) -> float:
        px = _phi(x)
        qx = (1.0 - px) ** n

        def g(w: float) -> float:
            py = _phi(x + w)
            return 1.0 - py**n - qx + (py - px) ** n

        value, _ = integrate.quad(g, 0.0, math.inf, epsabs=1e-13, epsrel=1e-12, limit=200)
        return value

    value, _ = integrate.quad(inner, -math.inf, math.inf, epsabs=1e-12, epsrel=1e-12, limit=200)
    return 2.0 * value


def c4(n: int) -> float:
    """E[s]/sigma for a sample of n normal values (any n >= 2)."""
    if n < 2:
        raise StatsInputError(field="n", message="c4 needs a sample size of at least 2")
    return math.sqrt(2.0 / (n - 1)) * math.exp(special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0))


@cache
def chart_constants(n: int) -> ChartConstants:
    """All factors for subgroup size n (2..25), computed once per n and cached."""
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_SUBGROUP <= n <= MAX_SUBGROUP:
        raise StatsInputError(
            field="subgroup_size",
            message=f"subgroup size must be an integer from {MIN_SUBGROUP} to {MAX_SUBGROUP}, got {n!r}",
        )
    d2 = _range_mean(n)
    d3 = math.sqrt(_range_second_moment(n) - d2 * d2)
    cc4 = c4(n)
    root_n = math.sqrt(n)
    s_spread = 3.0 * math.sqrt(1.0 - cc4 * cc4)
    return ChartConstants(
        n=n,
        d2=d2,
        d3=d3,
        c4=cc4,
        A=3.0 / root_n,
        A2=3.0 / (d2 * root_n),
        A3=3.0 / (cc4 * root_n),
        B3=max(0.0, 1.0 - s_spread / cc4),
        B4=1.0 + s_spread / cc4,
        B5=max(0.0, cc4 - s_spread),
        B6=cc4 + s_spread,
        D1=max(0.0, d2 - 3.0 * d3),
        D2=d2 + 3.0 * d3,
        D3=max(0.0, 1.0 - 3.0 * d3 / d2),
        D4=1.0 + 3.0 * d3 / d2,
        E2=3.0 / d2,
    )


def constants_table() -> list[dict[str, float | int]]:
    """The whole table n = 2..25, e.g. for an API listing or a printed appendix."""
    return [chart_constants(n).to_dict() for n in range(MIN_SUBGROUP, MAX_SUBGROUP + 1)]

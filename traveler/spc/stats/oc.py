"""Operating characteristics of a single sampling plan (n, c).

Pa(p) is binomial without a lot size, hypergeometric with one (D = round(p N)
nonconforming units in the lot). AOQ assumes rejected lots are screened 100 % and
nonconforming units found are replaced: AOQ = Pa p (N - n) / N, or Pa p without N.
ATI = n + (1 - Pa)(N - n). Formulas: docs/statistics.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, stats

from ._util import MAX_LOT_SIZE, finite_number
from .errors import StatsInputError

# Beyond this the binomial and hypergeometric routines lose their meaning; a clear
# error instead.
MAX_SAMPLE_SIZE = 10**7


def _check_plan(n: Any, c: Any, lot_size: Any) -> tuple[int, int, int | None]:
    for name, value in (("n", n), ("c", c)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise StatsInputError(field=name, message="must be a whole number")
    if n < 1:
        raise StatsInputError(field="n", message="sample size must be at least 1")
    if n > MAX_SAMPLE_SIZE:
        raise StatsInputError(field="n", message=f"sample size must be at most {MAX_SAMPLE_SIZE:,}")
    if not 0 <= c < n:
        raise StatsInputError(field="c", message="acceptance number must be from 0 to n - 1")
    if lot_size is not None:
        if isinstance(lot_size, bool) or not isinstance(lot_size, (int, np.integer)):
            raise StatsInputError(field="lot_size", message="must be a whole number")
        if lot_size < n:
            raise StatsInputError(field="lot_size", message="must be at least the sample size")
        if lot_size > MAX_LOT_SIZE:
            raise StatsInputError(field="lot_size", message=f"must be at most {MAX_LOT_SIZE:,}")
        lot_size = int(lot_size)
    return int(n), int(c), lot_size


def _check_p(p: Any, field: str = "p") -> float:
    value = finite_number(p, field=field)
    if not 0.0 <= value <= 1.0:
        raise StatsInputError(field=field, message="fraction nonconforming must be between 0 and 1")
    return value


def _pa(n: int, c: int, p: np.ndarray, lot_size: int | None) -> np.ndarray:
    if lot_size is None:
        return stats.binom.cdf(c, n, p)
    defective = np.rint(p * lot_size)
    return stats.hypergeom.cdf(c, lot_size, defective, n)


def oc_point(*, n: int, c: int, p: float, lot_size: int | None = None) -> dict[str, Any]:
    """Pa, AOQ and (with a lot size) ATI at one fraction nonconforming p."""
    n, c, lot = _check_plan(n, c, lot_size)
    frac = _check_p(p)
    pa = float(_pa(n, c, np.array([frac]), lot)[0])
    out: dict[str, Any] = {"p": frac, "pa": pa, "model": "hypergeometric" if lot else "binomial"}
    if lot is None:
        out.update(aoq=pa * frac, ati=None, lot_defectives=None)
    else:
        out.update(
            aoq=pa * frac * (lot - n) / lot,
            ati=n + (1.0 - pa) * (lot - n),
            lot_defectives=int(round(frac * lot)),
        )
    return out


def aoql(*, n: int, c: int, lot_size: int | None = None) -> dict[str, float]:
    """Average outgoing quality limit: the maximum of AOQ over p, found numerically."""
    n, c, lot = _check_plan(n, c, lot_size)
    factor = 1.0 if lot is None else (lot - n) / lot
    if lot is not None and lot <= 200_000:
        # The hypergeometric AOQ is defined on D = 0..N; search every D.
        d = np.arange(lot + 1, dtype=float)
        aoq = stats.hypergeom.cdf(c, lot, d, n) * (d / lot) * factor
        best = int(np.argmax(aoq))
        return {"aoql": float(aoq[best]), "p_at_aoql": best / lot}
    # Binomial AOQ(p) = p B(c; n, p) rises then falls; grid search then bounded refinement.
    grid = np.linspace(0.0, 1.0, 4001)
    values = grid * stats.binom.cdf(c, n, grid)
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda p: -p * stats.binom.cdf(c, n, p), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
    )
    p_star = float(res.x)
    return {"aoql": float(p_star * stats.binom.cdf(c, n, p_star) * factor), "p_at_aoql": p_star}


def oc_curve(
    *, n: int, c: int, lot_size: int | None = None, points: int = 101, p_max: float | None = None
) -> dict[str, Any]:
    """OC curve as a list of {p, pa, aoq, ati} points from p = 0 to p_max, plus the AOQL."""
    n, c, lot = _check_plan(n, c, lot_size)
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 10_000:
        raise StatsInputError(field="points", message="must be a whole number from 2 to 10000")
    if p_max is None:
        # Far enough that Pa has dropped below 0.1 % for any c.
        p_max = min(1.0, stats.beta.ppf(0.999, c + 1, n - c))
        p_max = min(1.0, math.ceil(p_max * 1000) / 1000)
    else:
        p_max = _check_p(p_max, "p_max")
        if p_max == 0:
            raise StatsInputError(field="p_max", message="must be greater than 0")
    p = np.linspace(0.0, p_max, points)
    pa = _pa(n, c, p, lot)
    factor = 1.0 if lot is None else (lot - n) / lot
    aoq = pa * p * factor
    ati = None if lot is None else n + (1.0 - pa) * (lot - n)
    curve = [
        {"p": float(p[i]), "pa": float(pa[i]), "aoq": float(aoq[i]), "ati": None if ati is None else float(ati[i])}
        for i in range(points)
    ]
    return {
        "n": n,
        "c": c,
        "lot_size": lot,
        "model": "hypergeometric" if lot else "binomial",
        "points": curve,
        **aoql(n=n, c=c, lot_size=lot),
    }

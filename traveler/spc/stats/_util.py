"""Input checks and JSON-safe output shared by the statistics modules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import StatsInputError

# Inputs are bounded so that every sum of squares and difference the engine forms stays
# finite in double precision: a result is either a number or a clear input error.
MAX_MAGNITUDE = 1e100
# Counts and sample sizes: whole numbers that a float and an int64 both hold exactly.
MAX_COUNT = 10**15
# Lots beyond a trillion units are not inspected by sampling tables.
MAX_LOT_SIZE = 10**12


def json_float(value: Any) -> float | None:
    """A plain float, or None for NaN/inf/None, so nothing non-JSON leaks out."""
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def json_list(arr: np.ndarray) -> list[float | None]:
    a = np.asarray(arr, dtype=float)
    bad = np.flatnonzero(~np.isfinite(a))
    out: list[float | None] = a.tolist()
    for i in bad.tolist():
        out[i] = None
    return out


def json_series(arr: np.ndarray) -> float | None | list[float | None]:
    """A number when every defined point has the same value, else the per-point list.

    Undefined points (the first moving range) are ignored when deciding, since they
    have no limit at all.
    """
    a = np.asarray(arr, dtype=float)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return None
    if (finite == finite[0]).all():
        return float(finite[0])
    return json_list(a)


def finite_array(values: Any, *, field: str, ndim: int = 1, allow_empty: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except OverflowError as exc:
        raise StatsInputError(field=field, message=f"contains a number beyond +/-{MAX_MAGNITUDE:g}") from exc
    except (TypeError, ValueError) as exc:
        raise StatsInputError(field=field, message="must contain numbers only") from exc
    if arr.ndim != ndim:
        shape = "a list of numbers" if ndim == 1 else "a list of equal-length lists of numbers"
        raise StatsInputError(field=field, message=f"must be {shape}")
    if arr.size == 0 and not allow_empty:
        raise StatsInputError(field=field, message="is empty")
    if not np.isfinite(arr).all():
        raise StatsInputError(field=field, message="contains a non-finite number (NaN or infinity)")
    if arr.size and float(np.abs(arr).max()) > MAX_MAGNITUDE:
        raise StatsInputError(field=field, message=f"contains a number beyond +/-{MAX_MAGNITUDE:g}")
    return arr


def finite_number(value: Any, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise StatsInputError(field=field, message="must be a number")
    try:
        f = float(value)
    except OverflowError:
        raise StatsInputError(field=field, message=f"must be between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}") from None
    if not math.isfinite(f):
        raise StatsInputError(field=field, message="must be a finite number")
    if abs(f) > MAX_MAGNITUDE:
        raise StatsInputError(field=field, message=f"must be between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")
    return f


def count_array(values: Any, *, field: str, positive: bool = False) -> np.ndarray:
    """Non-negative whole numbers (counts or sample sizes) as an int64 array."""
    arr = finite_array(values, field=field)
    if (arr != np.round(arr)).any():
        raise StatsInputError(field=field, message="must contain whole numbers")
    if positive and (arr < 1).any():
        raise StatsInputError(field=field, message="must all be at least 1")
    if (arr < 0).any():
        raise StatsInputError(field=field, message="must not be negative")
    if (arr > MAX_COUNT).any():
        raise StatsInputError(field=field, message=f"must all be at most {MAX_COUNT:.0e}")
    return arr.astype(np.int64)

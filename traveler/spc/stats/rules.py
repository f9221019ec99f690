"""Nelson and Western Electric run rules, vectorised over the whole series.

Conventions (see docs/statistics.md, "Run rules"):

* z-zones are per point: a point is compared with its own center line and sigma,
  so charts whose limits vary from point to point get per-point zones.
* "Beyond k sigma" is strict: x > CL + k*sigma or x < CL - k*sigma. A point exactly on
  a zone boundary belongs to the inner zone ("within 1 sigma" is |x - CL| <= sigma).
* A point exactly on the center line is on neither side and breaks a same-side run.
* Trends count points: six points steadily increasing means five rises in a row; an
  equal neighbour (a tie) breaks the trend. Alternation likewise breaks on a tie.
* Only the point that completes a pattern is flagged, and every later point that
  continues it (the 10th point of a 10-point same-side run is flagged for rule 2, the
  first eight are not). For "k of w" rules the flagged point must itself be beyond the
  zone, so a trailing point back inside the zone is not flagged.
* Windows for "k of w" rules may be partial at the start of the series: two points
  beyond 2 sigma as the first two points complete rule 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .errors import StatsInputError

RULE_DESCRIPTIONS: dict[str, str] = {
    "N1": "1 point more than 3 sigma from the center line",
    "N2": "9 points in a row on the same side of the center line",
    "N3": "6 points in a row steadily increasing or decreasing",
    "N4": "14 points in a row alternating up and down",
    "N5": "2 out of 3 points more than 2 sigma from the center line (same side)",
    "N6": "4 out of 5 points more than 1 sigma from the center line (same side)",
    "N7": "15 points in a row within 1 sigma of the center line (either side)",
    "N8": "8 points in a row more than 1 sigma from the center line (either side)",
    "WE1": "1 point more than 3 sigma from the center line",
    "WE2": "2 out of 3 points more than 2 sigma from the center line (same side)",
    "WE3": "4 out of 5 points more than 1 sigma from the center line (same side)",
    "WE4": "8 points in a row on the same side of the center line",
}

RULE_SETS: dict[str, tuple[str, ...]] = {
    "nelson": ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"),
    "western_electric": ("WE1", "WE2", "WE3", "WE4"),
}
_SET_ALIASES = {"nelson": "nelson", "n": "nelson", "western_electric": "western_electric", "we": "western_electric"}
_PREFIX = {"nelson": "N", "western_electric": "WE"}


def normalize_rules(rules: object) -> list[str]:
    """Turn a rule selection into an ordered list of rule codes such as ["N1", "WE4"].

    Accepts None (no rules), a set name ("nelson", "western_electric" or "we"), a rule
    code ("N5", "WE2"), a list mixing both, or a mapping {set name: [rule numbers]}.
    """
    if rules is None:
        return []
    selected: list[str] = []
    items: Iterable[object]
    if isinstance(rules, str):
        items = [rules]
    elif isinstance(rules, Mapping):
        items = []
        for set_name, numbers in rules.items():
            key = _SET_ALIASES.get(str(set_name).strip().lower())
            if key is None:
                raise StatsInputError(field="rules", message=f"unknown rule set {set_name!r}")
            if numbers is None or numbers is True:
                selected.extend(RULE_SETS[key])
                continue
            if isinstance(numbers, (str, bytes)) or not isinstance(numbers, Iterable):
                raise StatsInputError(field="rules", message=f"rule numbers for {set_name!r} must be a list")
            for number in numbers:
                selected.append(_code_for(key, number))
    elif isinstance(rules, Iterable):
        items = list(rules)
    else:
        raise StatsInputError(field="rules", message="rules must be a set name, a list of rule codes or a mapping")
    for item in items:
        if not isinstance(item, str):
            raise StatsInputError(field="rules", message=f"unknown rule {item!r}")
        token = item.strip().lower().replace("-", "_").replace(" ", "_")
        if token in ("", "none"):
            continue
        if token in _SET_ALIASES:
            selected.extend(RULE_SETS[_SET_ALIASES[token]])
            continue
        code = item.strip().upper()
        if code not in RULE_DESCRIPTIONS:
            raise StatsInputError(field="rules", message=f"unknown rule {item!r}")
        selected.append(code)
    order = list(RULE_DESCRIPTIONS)
    return sorted(set(selected), key=order.index)


def _code_for(set_key: str, number: object) -> str:
    if isinstance(number, bool) or not isinstance(number, int):
        raise StatsInputError(field="rules", message=f"rule number must be an integer, got {number!r}")
    code = f"{_PREFIX[set_key]}{number}"
    if code not in RULE_DESCRIPTIONS:
        raise StatsInputError(field="rules", message=f"{set_key} has no rule {number}")
    return code


class _Series:
    """The series with zone comparisons computed once and shared by all rules."""

    def __init__(self, x: np.ndarray, cl: np.ndarray, sigma: np.ndarray) -> None:
        self.x, self.cl, self.sigma = x, cl, sigma
        self.idx = np.arange(x.size)
        self._zones: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def zone(self, k: float) -> tuple[np.ndarray, np.ndarray]:
        """(above CL + k sigma, below CL - k sigma); strict, so a boundary point is inside."""
        if k not in self._zones:
            if k == 0:
                self._zones[k] = (self.x > self.cl, self.x < self.cl)
            else:
                self._zones[k] = (self.x > self.cl + k * self.sigma, self.x < self.cl - k * self.sigma)
        return self._zones[k]

    def run_length(self, flags: np.ndarray) -> np.ndarray:
        """Length of the run of True values ending at each index (0 where False)."""
        idx = self.idx[: flags.size]
        last_false = np.maximum.accumulate(np.where(flags, -1, idx))
        return idx - last_false


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """Number of True values among the last `width` points ending at each index."""
    cs = np.cumsum(flags, dtype=np.int32)
    out = cs.copy()
    out[width:] -= cs[:-width]
    return out


def _k_of_w(s: _Series, zone: float, k: int, w: int) -> np.ndarray:
    above, below = s.zone(zone)
    return (above & (_window_count(above, w) >= k)) | (below & (_window_count(below, w) >= k))


def _same_side(s: _Series, length: int) -> np.ndarray:
    above, below = s.zone(0)
    return (s.run_length(above) >= length) | (s.run_length(below) >= length)


def _trend(s: _Series, points: int) -> np.ndarray:
    out = np.zeros(s.x.size, dtype=bool)
    if s.x.size < points:
        return out
    d = np.diff(s.x)
    out[1:] = (s.run_length(d > 0) >= points - 1) | (s.run_length(d < 0) >= points - 1)
    return out


def _alternating(s: _Series, points: int) -> np.ndarray:
    out = np.zeros(s.x.size, dtype=bool)
    if s.x.size < points:
        return out
    sign = np.sign(np.diff(s.x))
    # turn[t] covers points t, t+1, t+2: an up then a down, or a down then an up.
    turn = (sign[1:] * sign[:-1]) < 0
    out[2:] = s.run_length(turn) >= points - 2
    return out


def _rule_flags(code: str, s: _Series) -> np.ndarray:
    if code in ("N1", "WE1"):
        above, below = s.zone(3.0)
        return above | below
    if code == "N2":
        return _same_side(s, 9)
    if code == "N3":
        return _trend(s, 6)
    if code == "N4":
        return _alternating(s, 14)
    if code in ("N5", "WE2"):
        return _k_of_w(s, 2.0, 2, 3)
    if code in ("N6", "WE3"):
        return _k_of_w(s, 1.0, 4, 5)
    if code == "N7":
        above, below = s.zone(1.0)
        # NaN points are neither inside nor outside; they break the run.
        return s.run_length(~(above | below) & np.isfinite(s.x)) >= 15
    if code == "N8":
        above, below = s.zone(1.0)
        return s.run_length(above | below) >= 8
    if code == "WE4":
        return _same_side(s, 8)
    raise StatsInputError(field="rules", message=f"unknown rule {code!r}")


@dataclass
class RuleResult:
    rules: list[str]
    flags: dict[str, np.ndarray] = field(repr=False)

    def violations(self) -> list[dict[str, object]]:
        """One entry per flagged point: its index and every rule it breaks."""
        if not self.rules:
            return []
        matrix = np.vstack([self.flags[code] for code in self.rules])
        # Encode each point's rule set as a bit mask, so the per-point work is one dict lookup.
        weights = (1 << np.arange(len(self.rules), dtype=np.int64))[:, None]
        masks = (matrix * weights).sum(axis=0)
        points = np.flatnonzero(masks)
        point_masks = masks[points]
        names = {int(m): [c for b, c in enumerate(self.rules) if int(m) >> b & 1] for m in np.unique(point_masks)}
        return [{"index": i, "rules": names[m]} for i, m in zip(points.tolist(), point_masks.tolist(), strict=True)]

    def counts(self) -> dict[str, int]:
        return {code: int(self.flags[code].sum()) for code in self.rules}

    def to_dict(self) -> dict[str, object]:
        return {
            "rules": list(self.rules),
            "descriptions": {code: RULE_DESCRIPTIONS[code] for code in self.rules},
            "counts": self.counts(),
            "violations": self.violations(),
        }


def evaluate_rules(
    *,
    values: object,
    center: object,
    sigma: object,
    rules: object = "nelson",
) -> RuleResult:
    """Apply run rules to a series with per-point (or constant) center and sigma.

    Points that are NaN (for example the first moving range) never break a rule and
    break any run they fall in.
    """
    codes = normalize_rules(rules)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise StatsInputError(field="values", message="values must be a one-dimensional series")
    cl = np.asarray(center, dtype=float)
    sd = np.asarray(sigma, dtype=float)
    if cl.shape not in ((), x.shape) or sd.shape not in ((), x.shape):
        raise StatsInputError(field="center", message="center and sigma must be numbers or one per point")
    series = _Series(x, cl, sd)
    return RuleResult(rules=codes, flags={code: _rule_flags(code, series) for code in codes})

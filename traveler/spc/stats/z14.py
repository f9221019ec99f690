"""ANSI/ASQ Z1.4-2003 single sampling: plan look-up and the switching rules (section 8).

Plan look-up: Table I gives the code letter for the lot size and inspection level; the
master table for the severity gives Ac/Re at (code letter, AQL). An arrow means "use
the first plan below (or above) the arrow": that plan's sample size AND Ac/Re are used,
so the code letter changes. If the sample size reaches the lot size, every unit of the
lot is inspected (100 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ._util import MAX_LOT_SIZE
from .errors import StatsInputError
from .z14_tables import AQLS, CODE_LETTERS, LEVELS, MASTER_TABLES, SAMPLE_SIZES

SEVERITIES = ("normal", "tightened", "reduced")
_AQL_VALUES = tuple(float(a) for a in AQLS)


def parse_aql(aql: Any) -> str:
    """The AQL column label ("0.010" ... "1000") for a number or string; else an error."""
    try:
        value = float(aql)
    except (TypeError, ValueError):
        raise StatsInputError(field="aql", message=f"unknown AQL {aql!r}") from None
    if isinstance(aql, bool) or value not in _AQL_VALUES:
        raise StatsInputError(field="aql", message=f"Z1.4 has no AQL {aql!r}; choose one of {', '.join(AQLS)}")
    return AQLS[_AQL_VALUES.index(value)]


def parse_level(level: Any) -> str:
    if not isinstance(level, str):
        raise StatsInputError(field="level", message=f"unknown inspection level {level!r}")
    token = level.strip().upper().replace(" ", "").replace("-", "")
    if token.startswith("S") and token[1:] in ("1", "2", "3", "4"):
        token = f"S-{token[1:]}"
    if token not in LEVELS:
        raise StatsInputError(field="level", message=f"unknown inspection level {level!r}; one of {', '.join(LEVELS)}")
    return token


def parse_severity(severity: Any) -> str:
    token = str(severity).strip().lower() if isinstance(severity, str) else None
    if token not in SEVERITIES:
        raise StatsInputError(field="severity", message=f"severity must be one of {', '.join(SEVERITIES)}")
    return token


def parse_lot_size(lot_size: Any) -> int:
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise StatsInputError(field="lot_size", message="must be a whole number")
    if lot_size < 2:
        raise StatsInputError(field="lot_size", message="Z1.4 defines lots of 2 or more units")
    if lot_size > MAX_LOT_SIZE:
        raise StatsInputError(field="lot_size", message=f"must be at most {MAX_LOT_SIZE:,}")
    return lot_size


def _whole(value: Any, *, field: str, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatsInputError(field=field, message="must be a whole number, 0 or more")
    if maximum is not None and value > maximum:
        raise StatsInputError(field=field, message=f"must be at most {maximum}")
    return value


def _flag(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise StatsInputError(field=field, message="must be true or false")
    return value


def code_letter(*, lot_size: int, level: str = "II") -> str:
    """Table I sample size code letter."""
    size = parse_lot_size(lot_size)
    column = LEVELS.index(parse_level(level))
    for low, high, letters in CODE_LETTERS:
        if size >= low and (high is None or size <= high):
            return letters.split()[column]
    raise AssertionError("Table I covers every lot size from 2 up")


def table_cell(*, severity: str, letter: str, aql: str) -> str:
    row = MASTER_TABLES[severity].get(letter)
    if row is None:
        return "-"
    return row.split()[AQLS.index(aql)]


def _resolve(severity: str, letter: str, aql: str) -> tuple[str, int, int, str | None]:
    letters = list(SAMPLE_SIZES[severity])
    i = letters.index(letter)
    cell = table_cell(severity=severity, letter=letter, aql=aql)
    arrow = {"v": "down", "^": "up"}.get(cell)
    step = 1 if cell == "v" else -1
    while cell in ("v", "^"):
        i += step
        if not 0 <= i < len(letters):
            raise AssertionError(f"arrow leaves Table II ({severity}, {letter}, {aql})")
        cell = table_cell(severity=severity, letter=letters[i], aql=aql)
        if cell in ("v", "^") and cell != ("v" if step == 1 else "^"):
            raise AssertionError(f"arrows point at each other ({severity}, {letter}, {aql})")
    if cell == "-":
        raise AssertionError(f"arrow ends on an empty cell ({severity}, {letter}, {aql})")
    ac, re = (int(v) for v in cell.split("/"))
    return letters[i], ac, re, arrow


@dataclass(frozen=True)
class SamplingPlan:
    lot_size: int
    level: str
    aql: str
    severity: str
    code_letter: str
    plan_code_letter: str
    arrow: str | None
    table_sample_size: int
    sample_size: int
    acceptance_number: int
    rejection_number: int
    inspect_100_percent: bool

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["standard"] = "ANSI/ASQ Z1.4-2003, single sampling"
        notes = []
        if self.arrow:
            notes.append(
                f"arrow {self.arrow} from code letter {self.code_letter}: "
                f"the plan of code letter {self.plan_code_letter} is used (sample size and Ac/Re)"
            )
        if self.inspect_100_percent:
            notes.append(
                f"sample size {self.table_sample_size} is not less than the lot size {self.lot_size}: "
                "inspect every unit of the lot (100 % inspection)"
            )
        if self.severity == "reduced" and self.rejection_number > self.acceptance_number + 1:
            notes.append(
                f"reduced inspection: {self.acceptance_number} or fewer accepts; {self.rejection_number} or more "
                "rejects; in between, the lot is accepted but normal inspection is reinstated"
            )
        out["notes"] = notes
        return out


def z14_plan(*, lot_size: int, level: str = "II", aql: Any, severity: str = "normal") -> dict[str, Any]:
    """Single sampling plan for a lot as a JSON-ready dict (see ``sampling_plan``)."""
    return sampling_plan(lot_size=lot_size, level=level, aql=aql, severity=severity).to_dict()


def sampling_plan(*, lot_size: int, level: str = "II", aql: Any, severity: str = "normal") -> SamplingPlan:
    """Single sampling plan for a lot: code letter, n, Ac and Re after following arrows."""
    size = parse_lot_size(lot_size)
    lvl = parse_level(level)
    column = parse_aql(aql)
    sev = parse_severity(severity)
    letter = code_letter(lot_size=size, level=lvl)
    plan_letter, ac, re, arrow = _resolve(sev, letter, column)
    n = SAMPLE_SIZES[sev][plan_letter]
    return SamplingPlan(
        lot_size=size,
        level=lvl,
        aql=column,
        severity=sev,
        code_letter=letter,
        plan_code_letter=plan_letter,
        arrow=arrow,
        table_sample_size=n,
        sample_size=min(n, size),
        acceptance_number=ac,
        rejection_number=re,
        inspect_100_percent=n >= size,
    )


def lot_decision(*, plan: SamplingPlan, defectives: int) -> str:
    """ "accept", "reject" or (reduced only) "accept_reinstate_normal" for a count found."""
    if isinstance(defectives, bool) or not isinstance(defectives, int) or defectives < 0:
        raise StatsInputError(field="defectives", message="must be a whole number, 0 or more")
    if defectives > plan.sample_size:
        raise StatsInputError(field="defectives", message="cannot exceed the number of units inspected")
    if defectives <= plan.acceptance_number:
        return "accept"
    if defectives >= plan.rejection_number:
        return "reject"
    return "accept_reinstate_normal"


def tighter_acceptance_number(*, plan: SamplingPlan) -> int | None:
    """Ac at the AQL one step tighter for the same sample size (same code letter row)."""
    j = AQLS.index(plan.aql)
    if j == 0:
        return None
    cell = table_cell(severity=plan.severity, letter=plan.plan_code_letter, aql=AQLS[j - 1])
    if "/" not in cell:
        return None
    return int(cell.split("/")[0])


@dataclass
class Z14Switching:
    """Z1.4-2003 section 8 switching rules as an explicit state machine.

    Feed it one lot at a time with ``record_lot``; persist ``to_dict()`` and rebuild
    with ``from_dict()``. States: normal, tightened, reduced, discontinued.
    """

    aql: str
    level: str = "II"
    severity: str = "normal"
    switching_score: int = 0
    normal_results: list[bool] = field(default_factory=list)  # last <= 5 lots on normal
    tightened_accepted_in_row: int = 0
    tightened_not_accepted: int = 0
    lots: int = 0

    def __post_init__(self) -> None:
        self.aql = parse_aql(self.aql)
        self.level = parse_level(self.level)
        if not isinstance(self.severity, str) or self.severity not in (*SEVERITIES, "discontinued"):
            raise StatsInputError(
                field="severity", message=f"must be one of {', '.join((*SEVERITIES, 'discontinued'))}"
            )
        # A persisted state comes back from clients: check every counter, so that a bad
        # one is an input error rather than a failure half-way through a lot.
        self.switching_score = _whole(self.switching_score, field="switching_score", maximum=10**9)
        self.tightened_accepted_in_row = _whole(self.tightened_accepted_in_row, field="tightened_accepted_in_row",
                                                maximum=4)
        self.tightened_not_accepted = _whole(self.tightened_not_accepted, field="tightened_not_accepted", maximum=4)
        self.lots = _whole(self.lots, field="lots", maximum=10**12)
        results = self.normal_results
        if not isinstance(results, list) or len(results) > 5 or not all(isinstance(r, bool) for r in results):
            raise StatsInputError(
                field="normal_results", message="must be a list of at most 5 true/false lot results"
            )
        self.normal_results = list(results)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Z14Switching:
        if not isinstance(data, dict):
            raise StatsInputError(field="state", message="must be a mapping")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise StatsInputError(field="state", message=f"unknown keys {sorted(unknown)}")
        if "aql" not in data:
            raise StatsInputError(field="aql", message="a switching state needs its AQL")
        return cls(**data)

    def _enter(self, severity: str) -> None:
        self.severity = severity
        self.switching_score = 0
        self.normal_results = []
        self.tightened_accepted_in_row = 0
        self.tightened_not_accepted = 0

    def resume(self) -> dict[str, Any]:
        """After corrective action agreed by the responsible authority: back on tightened (8.4)."""
        if self.severity != "discontinued":
            raise StatsInputError(field="state", message="inspection is not discontinued")
        self._enter("tightened")
        return {"severity": self.severity, "reason": "resumed after corrective action: tightened inspection (8.4)"}

    def record_lot(
        self,
        *,
        lot_size: int,
        defectives: int,
        production_steady: bool = True,
        authority_approves_reduced: bool = False,
        other_conditions_require_normal: bool = False,
    ) -> dict[str, Any]:
        """Judge one lot on original inspection and apply the switching rules."""
        if self.severity == "discontinued":
            raise StatsInputError(
                field="state", message="inspection is discontinued (8.4); call resume() after corrective action"
            )
        production_steady = _flag(production_steady, field="production_steady")
        authority_approves_reduced = _flag(authority_approves_reduced, field="authority_approves_reduced")
        other_conditions_require_normal = _flag(other_conditions_require_normal, field="other_conditions_require_normal")
        plan = sampling_plan(lot_size=lot_size, level=self.level, aql=self.aql, severity=self.severity)
        decision = lot_decision(plan=plan, defectives=defectives)
        accepted = decision != "reject"
        self.lots += 1
        before = self.severity
        reason = f"remain on {before} inspection"
        if before == "normal":
            reason = self._after_normal(plan, defectives, accepted, production_steady, authority_approves_reduced)
        elif before == "tightened":
            reason = self._after_tightened(accepted)
        else:
            reason = self._after_reduced(decision, production_steady, other_conditions_require_normal)
        return {
            "plan": plan.to_dict(),
            "defectives": defectives,
            "decision": decision,
            "accepted": accepted,
            "severity_before": before,
            "severity": self.severity,
            "switched": self.severity != before,
            "reason": reason,
            "state": self.to_dict(),
        }

    def _after_normal(self, plan: SamplingPlan, d: int, accepted: bool, steady: bool, approved: bool) -> str:
        self.normal_results = (self.normal_results + [accepted])[-5:]
        # 8.3.3 switching score (Z1.4-2003): Ac >= 2: +3 if the lot would also have been
        # accepted at the AQL one step tighter, else reset; Ac 0 or 1: +2 if accepted, else reset.
        if plan.acceptance_number >= 2:
            tighter = tighter_acceptance_number(plan=plan)
            self.switching_score = self.switching_score + 3 if tighter is not None and d <= tighter else 0
        else:
            self.switching_score = self.switching_score + 2 if accepted else 0
        rejected = self.normal_results.count(False)
        if rejected >= 2:
            window = len(self.normal_results)
            self._enter("tightened")
            return f"8.3.1: 2 of {window} or fewer consecutive lots not accepted on normal inspection: tightened"
        if self.switching_score >= 30 and steady and approved:
            score = self.switching_score
            self._enter("reduced")
            return (
                f"8.3.3: switching score {score} >= 30, production steady and reduced inspection approved by "
                "the responsible authority: reduced"
            )
        return f"remain on normal inspection (switching score {self.switching_score})"

    def _after_tightened(self, accepted: bool) -> str:
        if accepted:
            self.tightened_accepted_in_row += 1
        else:
            self.tightened_accepted_in_row = 0
            self.tightened_not_accepted += 1
        if self.tightened_not_accepted >= 5:
            self.severity = "discontinued"
            self.tightened_accepted_in_row = 0
            return "8.4: 5 lots not accepted while on tightened inspection: discontinue until corrective action"
        if self.tightened_accepted_in_row >= 5:
            self._enter("normal")
            return "8.3.2: 5 consecutive lots accepted on tightened inspection: normal"
        return (
            f"remain on tightened inspection ({self.tightened_accepted_in_row} accepted in a row, "
            f"{self.tightened_not_accepted} not accepted)"
        )

    def _after_reduced(self, decision: str, steady: bool, other: bool) -> str:
        reasons = []
        if decision == "reject":
            reasons.append("8.3.4 a: a lot was not accepted")
        if decision == "accept_reinstate_normal":
            reasons.append("8.3.4 b: nonconforming count between Ac and Re on reduced inspection (lot accepted)")
        if not steady:
            reasons.append("8.3.4 c: production irregular or delayed")
        if other:
            reasons.append("8.3.4 d: other conditions warrant normal inspection")
        if reasons:
            self._enter("normal")
            return "; ".join(reasons) + ": normal"
        return "remain on reduced inspection"


_LOT_KEYS = (
    "lot_size",
    "defectives",
    "production_steady",
    "authority_approves_reduced",
    "other_conditions_require_normal",
)


def z14_switch(
    *, state: dict[str, Any] | None = None, lot: dict[str, Any], aql: Any = None, level: str = "II"
) -> dict[str, Any]:
    """Dict in, dict out wrapper: apply one lot to a persisted switching state.

    ``state`` None starts a new scheme on normal inspection for ``aql`` and ``level``.
    ``lot`` holds lot_size, defectives and optionally production_steady,
    authority_approves_reduced, other_conditions_require_normal. Errors name the
    nested field: ``lot.defectives``, ``state.switching_score``.
    """
    if not isinstance(lot, dict):
        raise StatsInputError(field="lot", message="must be a mapping")
    unknown = set(lot) - set(_LOT_KEYS)
    if unknown:
        raise StatsInputError(field="lot", message=f"unknown keys {sorted(map(str, unknown))}")
    if "lot_size" not in lot or "defectives" not in lot:
        raise StatsInputError(field="lot", message="needs lot_size and defectives")
    if state is None:
        if aql is None:
            raise StatsInputError(field="aql", message="a new switching state needs an AQL")
        machine = Z14Switching(aql=aql, level=level)
    else:
        try:
            machine = Z14Switching.from_dict(state)
        except StatsInputError as exc:
            field = exc.field if exc.field == "state" else f"state.{exc.field}"
            raise StatsInputError(field=field, message=exc.message) from None
    try:
        return machine.record_lot(**lot)
    except StatsInputError as exc:
        field = f"lot.{exc.field}" if exc.field in _LOT_KEYS else exc.field
        raise StatsInputError(field=field, message=exc.message) from None

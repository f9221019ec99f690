"""The sampling decision as a pure function: whether a rule selects the part at ``position`` (its
sequence in its work order, 1..n) of a work order of ``quantity`` parts. Nothing here reads the
database or depends on which other parts are where, so a decision recorded with its inputs can be
recomputed at any time (``sampling_replay``) and a preview shows exactly what production will do.

Spreading k of n parts evenly (percentage, exact count): part i is selected when floor(i·k/n)
changes from part i-1 to part i, Bresenham's line: the k picks fall at n/k, 2n/k, ..., n (for 10 %
of 50: parts 10, 20, 30, 40, 50), never the first k parts. A random rule selects part i when a
hash of (seed, i) falls below its share: the same seed gives the same parts on every run.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from traveler.mes_full.choices import SamplingMode, SamplingRuleKind

PER_PART_KINDS = frozenset(SamplingRuleKind.values) - {SamplingRuleKind.Z14_LOT}
MAX_PREVIEW = 100_000


@dataclass(frozen=True)
class Rule:
    """What a decision needs of a rule (``SamplingRule`` rows are read into these)."""

    kind: str
    count: int | None = None
    percent: Decimal | None = None
    seed: int | None = None
    mode: str = SamplingMode.PRIMARY
    pk: int | None = None
    inspection_level: str = ""
    aql: str = ""


def rule_of(row) -> Rule:
    return Rule(kind=row.kind, count=row.count, percent=row.percent, seed=row.seed, mode=row.mode, pk=row.pk,
                inspection_level=row.inspection_level, aql=row.aql)


def spread_count(percent: Decimal, quantity: int) -> int:
    """⌈p·n⌉: how many parts of ``quantity`` a percentage selects (exactly, without float rounding)."""
    return min(quantity, math.ceil(Fraction(percent) * quantity / 100))


def _spread(k: int, position: int, quantity: int) -> bool:
    if k <= 0:
        return False
    if k >= quantity:
        return True
    return (position * k) // quantity != ((position - 1) * k) // quantity


def random_draw(seed: int, position: int) -> Fraction:
    """A number in [0, 1) drawn from (seed, position) alone."""
    digest = hashlib.sha256(f"{seed}:{position}".encode()).digest()
    return Fraction(int.from_bytes(digest[:8], "big"), 2**64)


def selects(rule: Rule, position: int, quantity: int) -> bool:
    """Whether ``rule`` selects the part at ``position`` of a work order of ``quantity`` parts."""
    kind = rule.kind
    if kind == SamplingRuleKind.EVERY_NTH:
        return position % rule.count == 0
    if kind == SamplingRuleKind.FIRST_N:
        return position <= rule.count
    if kind == SamplingRuleKind.LAST_N:
        return position > quantity - rule.count
    if kind == SamplingRuleKind.PERCENTAGE:
        return _spread(spread_count(rule.percent, quantity), position, quantity)
    if kind == SamplingRuleKind.EXACT_COUNT:
        return _spread(min(rule.count, quantity), position, quantity)
    if kind == SamplingRuleKind.RANDOM:
        return random_draw(rule.seed or 0, position) < Fraction(rule.percent) / 100
    return False  # lot plans decide for lots, not for single parts


def decide(rules: Iterable[Rule], position: int | None, quantity: int | None) -> tuple[bool, Rule | None]:
    """The decision of a set of rules (one mode): selected when any per-part rule selects the part;
    the first one that does is the rule recorded. A part with no position in a work order cannot be
    placed by any rule: it is always inspected."""
    rules = [r for r in rules if r.kind in PER_PART_KINDS]
    if position is None or not quantity:
        return True, None
    for rule in rules:
        if selects(rule, position, quantity):
            return True, rule
    return False, None


def selected_positions(rules: Sequence[Rule], quantity: int) -> list[int]:
    if quantity > MAX_PREVIEW:
        raise ValueError(f"at most {MAX_PREVIEW} parts")
    return [i for i in range(1, quantity + 1) if decide(rules, i, quantity)[0]]


def planned_rate(rules: Sequence[Rule], quantity: int) -> float | None:
    """The share of a work order the rules select."""
    if not quantity or quantity > MAX_PREVIEW:
        return None
    return len(selected_positions(rules, quantity)) / quantity


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _percent(p: Decimal | None) -> str:
    return f"{Decimal(p).normalize():f} %" if p is not None else "?"


def describe(rule: Rule) -> str:
    """The rule in words an operator reads: "every 5th", "10 % spread evenly", "first 3"."""
    kind = rule.kind
    if kind == SamplingRuleKind.EVERY_NTH:
        return "every part" if rule.count == 1 else f"every {ordinal(rule.count)}"
    if kind == SamplingRuleKind.FIRST_N:
        return f"first {rule.count}"
    if kind == SamplingRuleKind.LAST_N:
        return f"last {rule.count}"
    if kind == SamplingRuleKind.PERCENTAGE:
        return f"{_percent(rule.percent)} spread evenly"
    if kind == SamplingRuleKind.EXACT_COUNT:
        return f"exactly {rule.count} spread evenly"
    if kind == SamplingRuleKind.RANDOM:
        return f"random {_percent(rule.percent)} (seed {rule.seed})"
    if kind == SamplingRuleKind.Z14_LOT:
        return f"Z1.4 lot plan, level {rule.inspection_level}, AQL {rule.aql}"
    return kind


def describe_all(rules: Iterable[Rule]) -> str:
    words = [describe(r) for r in rules]
    return " or ".join(words) if words else "no rule"


def _positions_text(positions: list[int], limit: int = 8) -> str:
    if not positions:
        return "no part"
    shown = ", ".join(str(p) for p in positions[:limit])
    return f"parts {shown}{', …' if len(positions) > limit else ''}"


def preview(*, rules: Sequence[Rule], quantity: int, fallback_parts: int | None,
            fallback_passes: int | None) -> dict:
    """What the rules select in a work order of ``quantity`` parts, and what happens after a defect,
    in numbers and in a sentence."""
    primary = [r for r in rules if r.mode == SamplingMode.PRIMARY and r.kind in PER_PART_KINDS]
    fallback = [r for r in rules if r.mode == SamplingMode.FALLBACK and r.kind in PER_PART_KINDS]
    lots = [r for r in rules if r.kind == SamplingRuleKind.Z14_LOT]
    positions = selected_positions(primary, quantity) if primary else []
    fallback_positions = selected_positions(fallback, quantity) if fallback else []
    text = f"In a work order of {quantity} parts this selects {_positions_text(positions)}"
    text += f" ({len(positions)} of {quantity})" if positions else ""
    if fallback:
        limits = []
        if fallback_parts:
            limits.append(f"the next {fallback_parts} parts")
        if fallback_passes:
            limits.append(f"until {fallback_passes} inspections in a row pass")
        every = "" if fallback_positions == list(range(1, quantity + 1)) else f"{describe_all(fallback)} of "
        text += f"; after a defect {every}{' or '.join(limits) or 'the rest of the work order'}"
    text += "."
    if lots:
        text += " " + "; ".join(describe(r) for r in lots) + " (lot acceptance, not part by part)."
    return {"quantity": quantity, "primary": positions, "fallback": fallback_positions,
            "primary_rate": len(positions) / quantity if quantity else None, "text": text,
            "describe": describe_all(primary)}

"""Per-part sampling with fallback: rule sets (versioned), the decisions made as parts arrive at a
sampled step, the guard that keeps a selected part at the step until it is inspected, fallback after
a defect, analytics and the replay of every decision.

When decisions are made: the recorders of ``mes.part.advance`` (parts moving into a step) and
``mes.part.created`` (parts created at the first step) decide for every arriving part in one batch
of statements, whatever the number of parts. A part that reaches a sampled step another way (rework,
a rollback), or that was there before its rule set existed, is decided when first needed: by the
guard, with the same function. A decision is made once per part, step and rule set, and the part's
later visits of the step keep it.

What a decision depends on (``sampling_rules.decide``): the rules of the rule set's version, the part's
position in its work order (``Part.sequence``), the work order's quantity, the seed of a random rule
and whether the primary or the fallback rules decide; never on other parts. The last input is the
work order's ``SamplingTriggerState``, read and changed under its row lock: two concurrent advances
into the step wait for each other there, so one fallback part is never taken twice.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from traveler.core.bulk import insert_rows
from traveler.core.errors import Conflict, InvalidInput
from traveler.core.registry import Refusal
from traveler.core.services.records import record_archive, record_create, record_restore, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_full.choices import BlockKind, SamplingMode, SamplingRuleKind
from traveler.mes_full.models import (
    SamplingAnalytics,
    SamplingAuditLog,
    SamplingRule,
    SamplingRuleSet,
    SamplingRuleSetVersion,
    SamplingTriggerState,
    StepInspection,
)
from traveler.mes_full.services import sampling_rules as sr
from traveler.mes_lite.models import Part, PartType, Process, Step, WorkOrder

MAX_COUNT = 1_000_000
MAX_SEED = 2**31 - 1
COUNT_KINDS = {SamplingRuleKind.EVERY_NTH, SamplingRuleKind.FIRST_N, SamplingRuleKind.LAST_N,
               SamplingRuleKind.EXACT_COUNT}
PERCENT_KINDS = {SamplingRuleKind.PERCENTAGE, SamplingRuleKind.RANDOM}
SCOPE = ("part_type", "process", "step")
VERSIONED = ("rules", "fallback_parts", "fallback_passes")


# Rule sets: create, change (a new version), archive ----------------------------------------------

def _positive(value: Any, field: str, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field.replace('_', ' ').capitalize()} is required.", fields={field: ["required"]})
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{field}: a whole number above zero.", fields={field: ["a whole number"]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field}: a whole number above zero.", fields={field: ["a whole number"]}) from None
    if number != value and not isinstance(value, str) or number < 1 or number > MAX_COUNT:
        raise InvalidInput(f"{field}: a whole number from 1 to {MAX_COUNT}.", fields={field: [f"1 to {MAX_COUNT}"]})
    return number


def _z14(level: Any, aql: Any, prefix: str) -> tuple[str, str]:
    """A lot plan's inspection level and AQL, checked against the statistics engine's Z1.4 tables
    when the SPC module is installed (it owns them); kept as given otherwise."""
    level, aql = str(level or "").strip(), str(aql or "").strip()
    if not level:
        raise InvalidInput("A Z1.4 lot plan names its inspection level.", fields={f"{prefix}.inspection_level": ["required"]})
    if not aql:
        raise InvalidInput("A Z1.4 lot plan names its AQL.", fields={f"{prefix}.aql": ["required"]})
    try:
        from traveler.spc.stats.errors import StatsInputError
        from traveler.spc.stats.z14 import parse_aql, parse_level
    except ImportError:  # pragma: no cover - SPC not installed
        return level[:5], aql[:6]
    try:
        return parse_level(level), parse_aql(aql)
    except StatsInputError as exc:
        name = "inspection_level" if exc.field == "level" else "aql"
        raise InvalidInput(f"{exc.message}.", fields={f"{prefix}.{name}": [exc.message]}) from None


def _clean_rule(raw: Any, i: int) -> dict:
    prefix = f"rules[{i}]"
    if not isinstance(raw, dict):
        raise InvalidInput("Each rule is an object with its kind.", fields={prefix: ["an object"]})
    kind = raw.get("kind")
    if kind not in SamplingRuleKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(SamplingRuleKind.values)}.", fields={f"{prefix}.kind": ["unknown"]})
    mode = raw.get("mode") or SamplingMode.PRIMARY
    if mode not in SamplingMode.values:
        raise InvalidInput("mode is primary or fallback.", fields={f"{prefix}.mode": ["primary or fallback"]})
    rule = {"mode": mode, "kind": kind, "count": None, "percent": None, "seed": None, "inspection_level": "", "aql": ""}
    if kind in COUNT_KINDS:
        rule["count"] = _positive(raw.get("count"), f"{prefix}.count", required=True)
    if kind in PERCENT_KINDS:
        try:
            percent = Decimal(str(raw.get("percent"))) if raw.get("percent") not in (None, "") else None
        except (InvalidOperation, ValueError):
            percent = Decimal("NaN")
        if percent is None:
            raise InvalidInput("A percentage is required.", fields={f"{prefix}.percent": ["required"]})
        if isinstance(raw.get("percent"), bool) or not percent.is_finite() or not 0 < percent <= 100 \
                or percent != round(percent, 4):
            raise InvalidInput("percent: above 0 and at most 100, with at most 4 decimals.",
                               fields={f"{prefix}.percent": ["0 < percent ≤ 100"]})
        rule["percent"] = percent
    if kind == SamplingRuleKind.RANDOM:
        seed = raw.get("seed")
        if seed in (None, ""):
            seed = secrets.randbelow(MAX_SEED)
        elif isinstance(seed, bool) or not str(seed).lstrip("-").isdigit() or not 0 <= int(seed) <= MAX_SEED:
            raise InvalidInput(f"seed: a whole number from 0 to {MAX_SEED}.", fields={f"{prefix}.seed": ["0 to 2147483647"]})
        rule["seed"] = int(seed)
    if kind == SamplingRuleKind.Z14_LOT:
        rule["inspection_level"], rule["aql"] = _z14(raw.get("inspection_level"), raw.get("aql"), prefix)
    return rule


def _clean_version(rules: Any, fallback_parts: Any, fallback_passes: Any) -> tuple[list[dict], int | None, int | None]:
    if not isinstance(rules, list) or not rules:
        raise InvalidInput("A rule set has at least one rule.", fields={"rules": ["at least one rule"]})
    if len(rules) > 50:
        raise InvalidInput("At most 50 rules.", fields={"rules": ["at most 50"]})
    clean = [_clean_rule(r, i) for i, r in enumerate(rules)]
    parts = _positive(fallback_parts, "fallback_parts", required=False)
    passes = _positive(fallback_passes, "fallback_passes", required=False)
    has_fallback = any(r["mode"] == SamplingMode.FALLBACK and r["kind"] in sr.PER_PART_KINDS for r in clean)
    if has_fallback and parts is None and passes is None:
        raise InvalidInput("Say when the fallback rules stop: after a number of parts, or after a number of "
                           "inspections in a row that pass.", fields={"fallback_parts": ["required with fallback rules"]})
    for mode in SamplingMode.values:
        for n, r in enumerate((r for r in clean if r["mode"] == mode), start=1):
            r["position"] = n
    return clean, parts, passes


def _clean_scope(data: dict) -> dict:
    part_type, process, step = (data.get(k) for k in SCOPE)
    if not isinstance(part_type, PartType):
        raise InvalidInput("A rule set names its part type.", fields={"part_type": ["required"]})
    if step is not None:
        if process is None:
            process = data["process"] = step.process
        elif step.process_id != process.pk:
            raise InvalidInput(f"Step '{step.name}' is not a step of {process.name}.", fields={"step": ["not of this process"]})
    if process is not None and process.part_type_id != part_type.pk:
        raise InvalidInput(f"{process.name} is a route of another part type.", fields={"process": ["not of this part type"]})
    return data


def _version_write(ruleset: SamplingRuleSet, number: int, rules: list[dict], parts: int | None,
                   passes: int | None, note: str) -> SamplingRuleSetVersion:
    actor = current_actor()
    version = SamplingRuleSetVersion.objects.create(ruleset=ruleset, number=number, fallback_parts=parts,
                                                    fallback_passes=passes, note=note[:500], created_by=actor)
    SamplingRule.objects.bulk_create([SamplingRule(version=version, created_by=actor, **r) for r in rules])
    return version


def _unique(exc: IntegrityError) -> InvalidInput:
    return InvalidInput("An active rule set already samples this part type at this scope (process and step): "
                        "change that one, or archive it first.", fields={"step": ["one rule set per scope"]})


def ruleset_create(*, data: dict, reason: str | None = None) -> SamplingRuleSet:
    """A rule set with its first version: ``data`` holds name, description, part_type, process, step,
    rules (a list of rule objects), fallback_parts and fallback_passes."""
    data = dict(data)
    rules, parts, passes = _clean_version(data.pop("rules", None), data.pop("fallback_parts", None),
                                          data.pop("fallback_passes", None))
    data = _clean_scope(data)
    actor = current_actor()
    try:
        with transaction.atomic(), audit_reason(reason):
            ruleset = record_create(SamplingRuleSet, data={**data, "created_by": actor, "modified_by": actor},
                                    reason=reason)
            _version_write(ruleset, 1, rules, parts, passes, reason or "Created.")
    except IntegrityError as exc:
        raise _unique(exc) from exc
    except InvalidInput as exc:
        if "part_type" in (exc.fields or {}) and "must be unique" in str(exc.fields.get("part_type")):
            raise _unique(exc) from exc
        raise
    return ruleset


def current_version(ruleset: SamplingRuleSet) -> SamplingRuleSetVersion:
    return SamplingRuleSetVersion.objects.get(ruleset=ruleset, number=ruleset.revision)


def _rule_dicts(version: SamplingRuleSetVersion) -> list[dict]:
    return [{"mode": r.mode, "kind": r.kind, "position": r.position, "count": r.count, "percent": r.percent,
             "seed": r.seed, "inspection_level": r.inspection_level, "aql": r.aql} for r in version.rules.all()]


def ruleset_update(*, ruleset: SamplingRuleSet, version: int | None, data: dict,
                   reason: str | None = None) -> SamplingRuleSet:
    """Change a rule set. Its scope stays; a change of its rules or fallback settings makes a new version
    (the old ones stay readable, and the decisions made under them name them); its name and
    description change in place."""
    data = dict(data)
    for key in SCOPE:
        if key in data and data[key] != getattr(ruleset, key):
            raise InvalidInput("A rule set keeps its part type, process and step: archive it and create another.",
                               fields={key: ["cannot change"]})
        data.pop(key, None)
    with transaction.atomic(), audit_reason(reason):
        locked = SamplingRuleSet.objects.select_for_update().get(pk=ruleset.pk)
        if version is not None and locked.version != version:
            raise Conflict("Someone else changed this rule set meanwhile: review it again.",
                           fields={"version": [f"current {locked.version}"]})
        current = current_version(locked)
        new_version = None
        if any(k in data for k in VERSIONED):
            rules, parts, passes = _clean_version(
                data.pop("rules", _rule_dicts(current)), data.pop("fallback_parts", current.fallback_parts),
                data.pop("fallback_passes", current.fallback_passes))
            if (rules, parts, passes) != (_rule_dicts(current), current.fallback_parts, current.fallback_passes):
                new_version = (rules, parts, passes)
        changes = {k: v for k, v in data.items() if k in ("name", "description")}
        if new_version:
            changes["revision"] = locked.revision + 1
        if not changes:
            return locked
        changes["modified_by"] = current_actor()
        updated = record_update(locked, version=version, data=changes,
                                reason=reason)
        if new_version:
            _version_write(updated, updated.revision, *new_version, reason or "Changed.")
    return updated


def ruleset_archive(*, ruleset: SamplingRuleSet, version: int | None = None,
                    reason: str | None = None) -> SamplingRuleSet:
    return record_archive(ruleset, version=version, reason=reason)


def ruleset_restore(*, ruleset: SamplingRuleSet, reason: str | None = None) -> SamplingRuleSet:
    """Bring an archived rule set back, unless another active one samples its scope meanwhile."""
    try:
        with transaction.atomic():
            return record_restore(ruleset, reason=reason)
    except IntegrityError as exc:
        raise Conflict("Another active rule set samples this scope: archive it first.",
                       fields={"step": ["one rule set per scope"]}) from exc


def ruleset_versions(ruleset: SamplingRuleSet) -> list[SamplingRuleSetVersion]:
    return list(SamplingRuleSetVersion.objects.filter(ruleset=ruleset).prefetch_related("rules")
                .select_related("created_by").order_by("-number"))


def rules_of_version(version: SamplingRuleSetVersion) -> list[sr.Rule]:
    return [sr.rule_of(r) for r in version.rules.all()]


def ruleset_preview(*, rules: list, quantity: Any, fallback_parts: Any = None, fallback_passes: Any = None) -> dict:
    """What ``rules`` would select in a work order of ``quantity`` parts (nothing is written)."""
    clean, parts, passes = _clean_version(rules, fallback_parts, fallback_passes)
    n = _positive(quantity, "quantity", required=True)
    if n > sr.MAX_PREVIEW:
        raise InvalidInput(f"quantity: at most {sr.MAX_PREVIEW} for a preview.", fields={"quantity": ["too large"]})
    specs = [sr.Rule(kind=r["kind"], count=r["count"], percent=r["percent"], seed=r["seed"], mode=r["mode"],
                     inspection_level=r["inspection_level"], aql=r["aql"]) for r in clean]
    return {**sr.preview(rules=specs, quantity=n, fallback_parts=parts, fallback_passes=passes),
            "rules": [{**r, "describe": sr.describe(s)} for r, s in zip(clean, specs, strict=True)]}


# Which rule set samples where ---------------------------------------------------------------------

Key = tuple[int, int, int]  # (part type, process, step)
KNOWN = "_sampling_rulesets"  # on an advance's step: the rule sets its guard looked up


def rulesets_for(keys: set[Key]) -> dict[Key, SamplingRuleSet]:
    """The active rule set of each (part type, process, step), in one query: the one of the step, else
    the process's, else the part type's."""
    if not keys:
        return {}
    steps = {k[2] for k in keys}
    processes = {k[1] for k in keys}
    found = list(SamplingRuleSet.objects.filter(
        Q(step_id__in=steps) | Q(step__isnull=True, process_id__in=processes) | Q(step__isnull=True, process__isnull=True),
        part_type_id__in={k[0] for k in keys}, archived_at__isnull=True).order_by())
    out = {}
    for key in keys:
        part_type, process, step = key
        best = None
        for rs in found:
            if rs.part_type_id != part_type:
                continue
            rank = 3 if rs.step_id == step else 2 if rs.step_id is None and rs.process_id == process else \
                1 if rs.step_id is None and rs.process_id is None else 0
            if rank and (best is None or rank > best[0]):
                best = (rank, rs)
        if best:
            out[key] = best[1]
    return out


@dataclass
class _Version:
    row: SamplingRuleSetVersion
    primary: list[sr.Rule]
    fallback: list[sr.Rule]


def _current_versions(ruleset_ids: set[int]) -> dict[int, _Version]:
    """The current version of each rule set with its rules, in one query (a version has a rule)."""
    out: dict[int, _Version] = {}
    rows = (SamplingRule.objects.filter(version__ruleset_id__in=ruleset_ids, version__number=F("version__ruleset__revision"))
            .select_related("version").order_by("version_id", "mode", "position", "pk"))
    for r in rows:
        v = out.setdefault(r.version.ruleset_id, _Version(r.version, [], []))
        (v.fallback if r.mode == SamplingMode.FALLBACK else v.primary).append(sr.rule_of(r))
    return out


@functools.lru_cache(maxsize=512)
def _planned(rules: tuple[sr.Rule, ...], quantity: int) -> float | None:
    return sr.planned_rate(rules, quantity)


# Decisions --------------------------------------------------------------------------------------

@dataclass
class Decision:
    part: Part
    step_id: int
    ruleset: SamplingRuleSet
    version: _Version
    mode: str
    selected: bool
    rule: sr.Rule | None
    triggered_by_id: int | None
    position: int | None
    quantity: int | None
    seed: int | None


_STATE_ENSURE = """
INSERT INTO mes_full_samplingtriggerstate (tenant_id, created_at, updated_at, version, ruleset_id, work_order_id,
                                           fallback_active, consecutive_passes)
SELECT %(tenant)s, %(now)s, %(now)s, 1, x.r, x.w, false, 0 FROM unnest(%(r)s::bigint[], %(w)s::bigint[]) AS x(r, w)
ON CONFLICT (ruleset_id, work_order_id) DO NOTHING
"""

_STATE_UPDATE = """
UPDATE mes_full_samplingtriggerstate s
SET fallback_active = x.a, parts_remaining = x.rem, consecutive_passes = x.c, triggered_by_id = x.t,
    triggered_at = x.at, updated_at = %(now)s, version = s.version + 1
FROM unnest(%(ids)s::bigint[], %(a)s::boolean[], %(rem)s::integer[], %(c)s::integer[], %(t)s::bigint[],
            %(at)s::timestamptz[]) AS x(id, a, rem, c, t, at)
WHERE s.id = x.id
"""

_ANALYTICS_ADD = """
INSERT INTO mes_full_samplinganalytics AS a (tenant_id, created_at, updated_at, version, ruleset_id, work_order_id,
                                             parts_total, parts_sampled, parts_fallback, defects_found, planned_rate)
SELECT %(tenant)s, %(now)s, %(now)s, 1, x.r, x.w, x.total, x.sampled, x.fallback, x.defects, x.planned
FROM unnest(%(r)s::bigint[], %(w)s::bigint[], %(total)s::integer[], %(sampled)s::integer[], %(fallback)s::integer[],
            %(defects)s::integer[], %(planned)s::float8[]) AS x(r, w, total, sampled, fallback, defects, planned)
ON CONFLICT (ruleset_id, work_order_id) DO UPDATE SET
    parts_total = a.parts_total + EXCLUDED.parts_total, parts_sampled = a.parts_sampled + EXCLUDED.parts_sampled,
    parts_fallback = a.parts_fallback + EXCLUDED.parts_fallback, defects_found = a.defects_found + EXCLUDED.defects_found,
    planned_rate = COALESCE(EXCLUDED.planned_rate, a.planned_rate), updated_at = EXCLUDED.updated_at,
    version = a.version + 1
"""


def _locked_states(pairs: set[tuple[int, int]], now: datetime) -> dict[tuple[int, int], SamplingTriggerState]:
    """The trigger states of (rule set, work order) pairs, locked (in id order, so that two
    transactions never wait for each other in a circle); the missing ones are made first, and locked
    then: at most three statements."""
    if not pairs:
        return {}

    def lock(some) -> dict[tuple[int, int], SamplingTriggerState]:
        q = Q()
        for r, w in some:
            q |= Q(ruleset_id=r, work_order_id=w)
        rows = SamplingTriggerState.objects.select_for_update(of=("self",)).filter(q).order_by("pk")
        return {(s.ruleset_id, s.work_order_id): s for s in rows}

    states = lock(sorted(pairs))
    missing = sorted(pairs - set(states))
    if missing:
        with connection.cursor() as cur:
            cur.execute(_STATE_ENSURE, {"tenant": current_tenant().pk, "now": now, "r": [p[0] for p in missing],
                                        "w": [p[1] for p in missing]})
        states.update(lock(missing))
    return states


def _analytics_add(counts: dict[tuple[int, int], list], now: datetime) -> None:
    if not counts:
        return
    keys = sorted(counts)
    with connection.cursor() as cur:
        cur.execute(_ANALYTICS_ADD, {
            "tenant": current_tenant().pk, "now": now, "r": [k[0] for k in keys], "w": [k[1] for k in keys],
            **{name: [counts[k][i] for k in keys]
               for i, name in enumerate(("total", "sampled", "fallback", "defects", "planned"))}})


def _states_write(states: list[SamplingTriggerState], now: datetime) -> None:
    if not states:
        return
    with connection.cursor() as cur:
        cur.execute(_STATE_UPDATE, {
            "now": now, "ids": [s.pk for s in states], "a": [s.fallback_active for s in states],
            "rem": [s.parts_remaining for s in states], "c": [s.consecutive_passes for s in states],
            "t": [s.triggered_by_id for s in states], "at": [s.triggered_at for s in states]})


def _decide(todo: list[tuple[Part, int, SamplingRuleSet]], now: datetime) -> dict[tuple[int, int, int], Decision]:
    """Decide for each (part, step, rule set) not decided yet, in a constant number of statements:
    the rule sets' current versions, the work orders' quantities, their trigger states (locked),
    the decisions already made (read under those locks), then the new decisions, the states and the
    analytics written. Returns every decision of ``todo`` by (part, step, rule set), made or found."""
    if not todo:
        return {}
    versions = _current_versions({rs.pk for _, _, rs in todo})
    wo_ids = {p.work_order_id for p, _, _ in todo if p.work_order_id}
    quantities = dict(WorkOrder.objects.filter(pk__in=wo_ids).values_list("pk", "quantity")) if wo_ids else {}
    states = _locked_states({(rs.pk, p.work_order_id) for p, _, rs in todo if p.work_order_id}, now)
    found = {(d.part_id, d.step_id, d.ruleset_id): d for d in SamplingAuditLog.objects.filter(
        part_id__in={p.pk for p, _, _ in todo}, step_id__in={s for _, s, _ in todo},
        ruleset_id__in={rs.pk for _, _, rs in todo}).select_related("rule", "ruleset_version")}
    out: dict[tuple[int, int, int], Decision] = {}
    new: list[Decision] = []
    changed: dict[int, SamplingTriggerState] = {}
    for part, step_id, rs in sorted(todo, key=lambda t: (t[2].pk, t[0].work_order_id or 0, t[0].sequence or 0, t[0].pk)):
        key = (part.pk, step_id, rs.pk)
        if key in out:
            continue
        if key in found:
            out[key] = _decision_of(found[key], part, rs)
            continue
        version = versions.get(rs.pk)
        if version is None:
            continue
        state = states.get((rs.pk, part.work_order_id))
        fallback = bool(state and state.fallback_active and version.fallback)
        rules = version.fallback if fallback else version.primary
        quantity = quantities.get(part.work_order_id)
        selected, rule = sr.decide(rules, part.sequence, quantity)
        seed = rule.seed if rule is not None and rule.seed is not None else \
            next((r.seed for r in rules if r.kind == SamplingRuleKind.RANDOM), None)
        decision = Decision(part, step_id, rs, version, SamplingMode.FALLBACK if fallback else SamplingMode.PRIMARY,
                            selected, rule, state.triggered_by_id if fallback else None, part.sequence, quantity, seed)
        if fallback and state.parts_remaining is not None:
            state.parts_remaining -= 1
            if state.parts_remaining <= 0:
                state.fallback_active, state.parts_remaining, state.consecutive_passes = False, None, 0
            changed[state.pk] = state
        out[key] = decision
        new.append(decision)
    if new:
        insert_rows(SamplingAuditLog, {
            "part": [d.part.pk for d in new], "step": [d.step_id for d in new], "ruleset": [d.ruleset.pk for d in new],
            "ruleset_version": [d.version.row.pk for d in new], "revision": [d.version.row.number for d in new],
            "rule": [d.rule.pk if d.rule else None for d in new], "work_order": [d.part.work_order_id for d in new],
            "position": [d.position for d in new], "quantity": [d.quantity for d in new],
            "seed": [d.seed for d in new], "mode": [d.mode for d in new], "selected": [d.selected for d in new],
            "triggered_by": [d.triggered_by_id for d in new],
        }, same={"tenant": current_tenant().pk, "created_at": now, "updated_at": now, "version": 1, "decided_at": now})
        _states_write(list(changed.values()), now)
        counts: dict[tuple[int, int], list] = {}
        for d in new:
            if d.part.work_order_id is None:
                continue
            c = counts.setdefault((d.ruleset.pk, d.part.work_order_id),
                                  [0, 0, 0, 0, _planned(tuple(d.version.primary), d.quantity or 0)])
            c[0] += 1
            c[1] += d.selected
            c[2] += d.mode == SamplingMode.FALLBACK
        _analytics_add(counts, now)
    return out


def _decision_of(log: SamplingAuditLog, part: Part, rs: SamplingRuleSet) -> Decision:
    version = _Version(log.ruleset_version, [], [])
    return Decision(part, log.step_id, rs, version, log.mode, log.selected, sr.rule_of(log.rule) if log.rule else None,
                    log.triggered_by_id, log.position, log.quantity, log.seed)


def decisions_at_arrival(arrivals: list[tuple[Part, int]], *, now: datetime | None = None,
                         known: tuple[frozenset, dict] | None = None) -> None:
    """Decide for parts arriving at steps ((part, step id) pairs): the recorders' work. ``known``: the
    rule sets the guard already looked up for these keys (see ``sampling_guard``)."""
    if not arrivals:
        return
    keys = {(p.part_type_id, p.process_id, s) for p, s in arrivals}
    applicable = known[1] if known is not None and keys <= known[0] else rulesets_for(keys)
    todo = [(p, s, applicable[(p.part_type_id, p.process_id, s)]) for p, s in arrivals
            if (p.part_type_id, p.process_id, s) in applicable]
    _decide(todo, now or timezone.now())


def sampling_on_advance(*, parts, step, moves, now, **_) -> None:
    """The recorder of ``mes.part.advance``: the parts the advance moves into another step arrive there."""
    decisions_at_arrival([(p, m[1]) for p, m in zip(parts, moves, strict=True) if m[1] != step.pk], now=now,
                         known=getattr(step, KNOWN, None))


def sampling_on_created(*, parts, step, **_) -> None:
    """The recorder of ``mes.part.created``: new parts arrive at the first step."""
    decisions_at_arrival([(p, step.pk) for p in parts])


# The guard -----------------------------------------------------------------------------------------

def _serials(parts: list[Part]) -> str:
    named = [p.serial_number for p in parts]
    return ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")


def _why(decision: Decision, serials: dict[int, str]) -> str:
    rule = sr.describe(decision.rule) if decision.rule else "a part with no position in a work order is always inspected"
    if decision.mode == SamplingMode.FALLBACK:
        trigger = serials.get(decision.triggered_by_id)
        rule += f", fallback after defect on {trigger}" if trigger else ", fallback after a defect"
    return rule


def sampling_guard(*, parts, step, **_) -> list[Refusal]:
    """The guard on ``mes.part.advance``: a part the sampling rules selected at this step does not pass
    it until an inspection of this visit passed. One query at a step no rule set samples."""
    from traveler.mes_full.services.requirements import inspections_this_visit

    if step is None or not parts:
        return []
    here = {(p.part_type_id, p.process_id, step.pk) for p in parts}
    # The rule sets of the step the advance leads to are looked up in the same query and kept on this
    # advance's step object for the recorder (one query for sampling at a step none samples).
    following = getattr(step, "next_step_id", None)
    ahead = {(p.part_type_id, p.process_id, following) for p in parts} if following else set()
    applicable = rulesets_for(here | ahead)
    step.__dict__[KNOWN] = (frozenset(here | ahead), applicable)
    applicable = {k: v for k, v in applicable.items() if k in here}
    if not applicable:
        return []
    todo = [(p, step.pk, applicable[(p.part_type_id, p.process_id, step.pk)]) for p in parts
            if (p.part_type_id, p.process_id, step.pk) in applicable]
    found = {(d.part_id, d.ruleset_id): d for d in SamplingAuditLog.objects.filter(
        part_id__in=[p.pk for p, _, _ in todo], step=step, ruleset_id__in={rs.pk for _, _, rs in todo})
        .select_related("rule")}
    decisions: list[Decision] = []
    missing = []
    for p, s, rs in todo:
        log = found.get((p.pk, rs.pk))
        if log is None:
            missing.append((p, s, rs))
        elif log.selected:
            decisions.append(_decision_of(log, p, rs))
    if missing:  # arrived another way (rework), or before the rule set existed: decided now
        with transaction.atomic():
            made = _decide(missing, timezone.now())
        decisions += [d for d in made.values() if d.selected]
    if not decisions:
        return []
    done = inspections_this_visit([d.part.pk for d in decisions], step)
    waiting = [d for d in decisions if not (d.part.pk in done and done[d.part.pk].passed)]
    if not waiting:
        return []
    trigger_ids = {d.triggered_by_id for d in waiting if d.triggered_by_id}
    serials = dict(Part.objects.filter(pk__in=trigger_ids).values_list("pk", "serial_number")) if trigger_ids else {}
    groups: dict[str, list[Part]] = {}
    for d in waiting:
        groups.setdefault(_why(d, serials), []).append(d.part)
    refusals = []
    for why, group in groups.items():
        who = "this part" if len(parts) == 1 else _serials(group)
        refusals.append(Refusal(f"Inspect {who} (rule: {why}) at '{step.name}' before it passes.",
                                kind=BlockKind.SAMPLING_REQUIRED, part_ids=tuple(p.pk for p in group)))
    return refusals


# Inspections: a defect starts the fallback, passes end it -----------------------------------------

def sampling_inspection_recorded(*, inspection: StepInspection) -> None:
    """React to an inspection recorded at a step (called where inspections are recorded, in their
    transaction): at a sampled step a failed one is a defect, which counts in the analytics and starts
    the fallback rules for the work order (again from the start, if they were deciding already); a
    passed one while the fallback decides counts towards the passes in a row that end it."""
    _inspected(inspection.part, inspection.step_id, inspection.passed)


def sampling_quality_report(*, report_id: int, part_id: int, step_id: int, status: str) -> None:
    """A quality report recorded (Quality's ``qms.quality_report.created``, by name: this module does
    not import Quality) is an inspection too: a failed one a defect, a passed one a pass. Skipped when
    the report was recorded as a ``StepInspection`` already (which told sampling itself)."""
    if status not in ("pass", "fail") or StepInspection.objects.filter(quality_report_id=report_id).exists():
        return
    part = Part.objects.filter(pk=part_id).first()
    if part is not None:
        with transaction.atomic():
            _inspected(part, step_id, status == "pass")


def _inspected(part: Part, step_id: int, passed: bool) -> None:
    if part.work_order_id is None:
        return
    rs = rulesets_for({(part.part_type_id, part.process_id, step_id)}).get((part.part_type_id, part.process_id, step_id))
    if rs is None:
        return
    now = timezone.now()
    version = _current_versions({rs.pk}).get(rs.pk)
    state = _locked_states({(rs.pk, part.work_order_id)}, now)[(rs.pk, part.work_order_id)]
    if not passed:
        if version is not None and version.fallback:
            state.fallback_active, state.parts_remaining = True, version.row.fallback_parts
            state.consecutive_passes, state.triggered_by_id, state.triggered_at = 0, part.pk, now
            _states_write([state], now)
        _analytics_add({(rs.pk, part.work_order_id): [0, 0, 0, 1, None]}, now)
    elif state.fallback_active:
        state.consecutive_passes += 1
        limit = version.row.fallback_passes if version else None
        if limit is not None and state.consecutive_passes >= limit:
            state.fallback_active, state.parts_remaining, state.consecutive_passes = False, None, 0
        _states_write([state], now)


# Reading: a part's decisions, analytics, replay ---------------------------------------------------

def part_decisions(part: Part) -> list[SamplingAuditLog]:
    return list(SamplingAuditLog.objects.filter(part=part).select_related("ruleset", "rule", "step", "triggered_by")
                .order_by("decided_at", "pk"))


def ruleset_analytics(ruleset: SamplingRuleSet) -> list[SamplingAnalytics]:
    return list(SamplingAnalytics.objects.filter(ruleset=ruleset).select_related("work_order")
                .order_by("-updated_at", "pk"))


def trigger_state(ruleset: SamplingRuleSet, work_order: WorkOrder) -> SamplingTriggerState | None:
    return SamplingTriggerState.objects.filter(ruleset=ruleset, work_order=work_order).first()


@dataclass
class Replay:
    """What ``sampling_replay`` found: how many decisions it recomputed, a line for each input or
    result that differs (by decision id), and analytics that do not add up to the log."""

    count: int
    differences: dict[int, list[str]]
    analytics: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences and not self.analytics

    def lines(self) -> list[str]:
        return [line for lines in self.differences.values() for line in lines] + self.analytics


def sampling_replay(*, work_order: WorkOrder) -> Replay:
    """Recompute every logged decision of ``work_order`` from its recorded inputs (position, quantity,
    mode) and its version's rules, and compare result, rule, seed, version and position."""
    logs = list(SamplingAuditLog.objects.filter(work_order=work_order).select_related("part", "step")
                .order_by("pk"))
    rules: dict[tuple[int, str], list[sr.Rule]] = {}
    numbers = dict(SamplingRuleSetVersion.objects.filter(pk__in={g.ruleset_version_id for g in logs})
                   .values_list("pk", "number"))
    for r in SamplingRule.objects.filter(version_id__in=numbers).order_by("version_id", "mode", "position", "pk"):
        rules.setdefault((r.version_id, r.mode), []).append(sr.rule_of(r))
    differences: dict[int, list[str]] = {}
    counts: dict[int, list[int]] = {}
    for log in logs:
        where = f"{log.part.serial_number} at '{log.step.name}' (decision {log.pk})"
        found = []
        mode_rules = rules.get((log.ruleset_version_id, log.mode), [])
        selected, rule = sr.decide(mode_rules, log.position, log.quantity)
        seed = rule.seed if rule is not None and rule.seed is not None else \
            next((r.seed for r in mode_rules if r.kind == SamplingRuleKind.RANDOM), None)
        if log.mode not in SamplingMode.values:
            found.append(f"{where}: unknown mode {log.mode!r}")
        if numbers.get(log.ruleset_version_id) != log.revision:
            found.append(f"{where}: logged version {log.revision}, its rules are version "
                         f"{numbers.get(log.ruleset_version_id)}")
        if log.position != log.part.sequence:
            found.append(f"{where}: logged position {log.position}, the part's sequence is {log.part.sequence}")
        if selected != log.selected:
            found.append(f"{where}: logged {'selected' if log.selected else 'not selected'}, recomputed "
                         f"{'selected' if selected else 'not selected'}")
        elif (rule.pk if rule else None) != log.rule_id:
            found.append(f"{where}: logged rule {log.rule_id}, recomputed rule {rule.pk if rule else None}")
        if seed != log.seed:
            found.append(f"{where}: logged seed {log.seed}, the rule's seed is {seed}")
        if found:
            differences[log.pk] = found
        c = counts.setdefault(log.ruleset_id, [0, 0])
        c[0] += 1
        c[1] += log.selected
    analytics = []
    for a in SamplingAnalytics.objects.filter(work_order=work_order).order_by("pk"):
        total, sampled = counts.get(a.ruleset_id, [0, 0])
        if (a.parts_total, a.parts_sampled) != (total, sampled):
            analytics.append(f"analytics of rule set {a.ruleset_id}: {a.parts_total} parts, {a.parts_sampled} "
                             f"sampled; the log has {total} and {sampled}")
    return Replay(len(logs), differences, analytics)


def processes_of(part_type: PartType) -> list[Process]:
    return list(Process.objects.filter(part_type=part_type, archived_at__isnull=True).order_by("name", "-route_version"))


def steps_of(process: Process) -> list[Step]:
    return list(Step.objects.filter(process=process, archived_at__isnull=True).order_by("sequence"))

"""Signals: each run-rule violation on a characteristic with an active baseline, and what its
reaction plan makes of it.

``signals_detect`` runs after measurements are recorded (a durable handler on the traveler's events:
the advance is not slowed by it). It draws the chart of the measurements recorded since phase I
against the active baseline, takes every run of consecutive subgroups one rule flags, and records
each run once: the signal's key is (baseline, rule, first subgroup of the run), unique in the
database, and a run that goes on is the same signal extended. Detections of one characteristic are
serialised by an advisory lock, so a handler retried or run twice at once finds its signals made.

A new signal runs its characteristic's reaction plan: notify roles and users, hold the parts of the
subgroups involved, stop the step for new parts until a signed acknowledgement releases it, and, for
the quality module if it is installed, ask for a nonconformance or a CAPA through the
``spc.signal.raised`` event (this module knows nothing of the quality module; its answer comes back
as ``qms.spc_signal.answered`` and is recorded in the signal's links).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import Role, User
from traveler.core.roles import QA_MANAGER
from traveler.core.services.approval_templates import check_active_member
from traveler.core.services.notifications import notify
from traveler.core.services.records import record_update
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_lite.choices import PART_TRANSITIONS, TransitionAction
from traveler.mes_lite.models import MeasurementDefinition, Part, Step
from traveler.mes_lite.services.parts import part_hold
from traveler.spc.choices import BaselineStatus, SignalSeverity, SignalStatus, Subgrouping
from traveler.spc.events import SignalRaised
from traveler.spc.models import ReactionPlan, SPCBaseline, SPCSignal
from traveler.spc.services.characteristics import (
    Filters,
    Subgroup,
    characteristic_for,
    chart_of,
    measurements,
    measurements_count,
    subgroups,
)
from traveler.spc.stats.rules import RULE_DESCRIPTIONS

WINDOW = 120  # the last subgroups looked at by one detection: a run longer than this is still one signal
WARMUP = 15  # when the window is cut, its first subgroups only give context (a run rule needs up to 15 points)
LIMIT2 = "LIMIT2"  # the range, moving-range or standard-deviation chart beyond its limits
DESCRIPTIONS = {**RULE_DESCRIPTIONS, LIMIT2: "Spread beyond its control limits (range, moving range or "
                                             "standard deviation chart)"}
NOTIFY_KIND = "spc.signal.raised"
DEFAULT_PLAN: dict[str, Any] = {
    "notify_roles": [QA_MANAGER], "hold_parts": False, "hold_step": False, "open_nonconformance": False,
    "open_capa": False, "owner": None, "severity": SignalSeverity.MAJOR, "instructions": "",
}
PLAN_FIELDS = (*DEFAULT_PLAN, "notify_users")

# Which status each action leads from.
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "acknowledge": ({SignalStatus.NEW}, SignalStatus.ACKNOWLEDGED),
    "investigate": ({SignalStatus.ACKNOWLEDGED}, SignalStatus.INVESTIGATED),
    "close": ({SignalStatus.ACKNOWLEDGED, SignalStatus.INVESTIGATED}, SignalStatus.CLOSED),
}


# Reaction plans ------------------------------------------------------------------------------------

def reaction_plan_for(definition: MeasurementDefinition) -> ReactionPlan:
    """The characteristic's reaction plan: its saved row, or an unsaved one with the defaults."""
    found = ReactionPlan.objects.filter(definition=definition).first()
    return found or ReactionPlan(definition=definition, **DEFAULT_PLAN)


def plan_users(plan: ReactionPlan) -> list[User]:
    """The people a plan names (none while it is not saved)."""
    return list(plan.notify_users.all()) if plan.pk else []


def reaction_plan_save(*, definition: MeasurementDefinition, data: dict[str, Any], version: int | None = None,
                       reason: str | None = None) -> ReactionPlan:
    """Save what a signal of ``definition`` does (``data``: any of ``PLAN_FIELDS``; the others keep
    their values). ``notify_roles`` are role codes of the tenant, ``notify_users`` and ``owner``
    active members."""
    unknown = set(data) - set(PLAN_FIELDS)
    if unknown:
        raise InvalidInput(f"Not a reaction plan setting: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})
    data = dict(data)
    users = data.pop("notify_users", None)
    if "notify_roles" in data:
        roles = list(dict.fromkeys(str(r) for r in data["notify_roles"] or []))
        known = set(Role.objects.filter(code__in=roles, archived_at__isnull=True).values_list("code", flat=True))
        strangers = [r for r in roles if r not in known]
        if strangers:
            raise InvalidInput(f"No such role: {', '.join(strangers)}.", fields={"notify_roles": ["unknown role"]})
        data["notify_roles"] = roles
    if "severity" in data and data["severity"] not in SignalSeverity.values:
        raise InvalidInput(f"severity: one of {', '.join(SignalSeverity.values)}.", fields={"severity": ["invalid"]})
    if data.get("owner") is not None:
        if not isinstance(data["owner"], User):
            raise InvalidInput("owner: unknown.", fields={"owner": ["unknown"]})
        check_active_member(data["owner"], "owner")
    if users is not None:
        users = list({u.pk: u for u in users}.values())
        for u in users:
            check_active_member(u, "notify_users")
    with transaction.atomic(), audit_reason(reason):
        plan = reaction_plan_for(definition)
        if plan.pk is None:
            for k, v in data.items():
                setattr(plan, k, v)
            plan.save()
        elif data:
            plan = record_update(plan, version=version, data=data, reason=reason)
        elif version is not None and version != plan.version:
            raise Conflict("Someone else changed this reaction plan meanwhile: review it again.",
                           fields={"version": [f"expected {plan.version}, got {version}"]})
        if users is not None:
            plan.notify_users.set(users)
    return plan


# Detection -----------------------------------------------------------------------------------------

@dataclass
class _Run:
    rule: str
    groups: list[Subgroup]
    values: list[float]
    before: int | None  # the key of the subgroup just before the run (to join a signal the window cut)


def _runs(flagged: dict[str, list[int]], groups: list[Subgroup], plotted: list[float], start: int) -> list[_Run]:
    """The runs of consecutive flagged subgroups, per rule, that end at or after ``start``."""
    out = []
    for rule, indexes in flagged.items():
        run: list[int] = []
        for i in [*sorted(set(indexes)), None]:
            if run and (i is None or i != run[-1] + 1):
                if run[-1] >= start:
                    out.append(_Run(rule, [groups[j] for j in run], [plotted[j] for j in run],
                                    groups[run[0] - 1].key if run[0] > 0 else None))
                run = []
            if i is not None:
                run.append(i)
    return out


def _phase_two_start(base: SPCBaseline) -> datetime:
    return base.range_to or base.created_at


def _lock(definition_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('spc.signals'), %s)", [definition_id])


def signals_detect(*, definition: MeasurementDefinition) -> list[SPCSignal]:
    """Record the signals of ``definition``'s measurements since its active baseline's phase I; returns
    the new ones (extended ones are updated, not returned). Nothing without an active baseline."""
    with transaction.atomic():
        _lock(definition.pk)
        base = SPCBaseline.objects.filter(definition=definition, status=BaselineStatus.ACTIVE).first()
        if base is None:
            return []
        c = characteristic_for(definition)
        since = Filters(date_from=_phase_two_start(base))
        if base.subgrouping == Subgrouping.CONSECUTIVE:
            # Read only the window: consecutive subgroups count from the first value after phase I, so
            # the values left out are a whole number of subgroups (the incomplete last one stays).
            n = max(1, base.subgroup_size)
            total = measurements_count(definition, since)
            keep = (WINDOW + WARMUP) * n + total % n
            rows = measurements(definition, replace(since, last=keep)) if total > keep else measurements(definition, since)
        else:
            rows = measurements(definition, since)
        groups = subgroups(rows, base, c)
        start = 0
        if len(groups) > WINDOW + WARMUP or (base.subgrouping == Subgrouping.CONSECUTIVE and total > keep):
            groups = groups[-(WINDOW + WARMUP):]
            start = WARMUP
        chart = chart_of(c, base, groups)
        if chart.result is None:
            return []
        result = chart.result
        flagged: dict[str, list[int]] = {}
        for v in result["rules"]["violations"]:
            for rule in v["rules"]:
                flagged.setdefault(rule, []).append(v["index"])
        secondary = (result.get("secondary") or {}).get("violations") or []
        if secondary:
            flagged[LIMIT2] = [v["index"] for v in secondary]
        plotted = list(result["primary"]["values"])
        if LIMIT2 in flagged:
            spread = list(result["secondary"]["values"])
        made = []
        plan = None
        for run in _runs(flagged, groups, plotted, start):
            values = ([spread[groups.index(g)] for g in run.groups] if run.rule == LIMIT2 else run.values)
            signal, new = _record(base, definition, run, values)
            if new:
                plan = plan or reaction_plan_for(definition)
                _react(signal, plan)
                made.append(signal)
        return made


def _record(base: SPCBaseline, definition: MeasurementDefinition, run: _Run, values: list[float]) -> tuple[SPCSignal, bool]:
    keys = [g.key for g in run.groups]
    parts = list(dict.fromkeys(r.part_id for g in run.groups for r in g.rows))
    joined = [k for k in (run.before, *keys) if k is not None]
    existing = (SPCSignal.objects.select_for_update()
                .filter(baseline=base, rule=run.rule, last_key__in=joined).order_by("first_key").first())
    last_at = run.groups[-1].rows[-1].recorded_at
    if existing is not None:
        if existing.last_key != keys[-1]:
            known = set(existing.part_ids)
            SPCSignal.objects.filter(pk=existing.pk).update(
                last_key=keys[-1], last_at=last_at, points=existing.points + len([k for k in keys if k > existing.last_key]),
                values=[*existing.values, *[v for k, v in zip(keys, values, strict=True) if k > existing.last_key]],
                part_ids=[*existing.part_ids, *[p for p in parts if p not in known]],
                version=F("version") + 1, updated_at=timezone.now())
            existing.refresh_from_db()
        return existing, False
    signal = SPCSignal.objects.create(
        definition=definition, baseline=base, step_id=definition.step_id, rule=run.rule,
        description=DESCRIPTIONS.get(run.rule, run.rule)[:300], first_key=keys[0], last_key=keys[-1],
        points=len(keys), values=[round(float(v), 10) for v in values], part_ids=parts,
        first_at=run.groups[0].rows[0].recorded_at, last_at=last_at)
    return signal, True


def _recipients(plan: ReactionPlan) -> list[User]:
    users = {u.pk: u for u in plan_users(plan)}
    if plan.notify_roles:
        for u in User.objects.filter(memberships__tenant_id=plan.tenant_id,
                                     memberships__is_active=True, memberships__accepted_at__isnull=False,
                                     is_active=True, memberships__role_links__role__code__in=plan.notify_roles,
                                     memberships__role_links__role__archived_at__isnull=True).distinct():
            users.setdefault(u.pk, u)
    return list(users.values())


def _owner(plan: ReactionPlan) -> User | None:
    if plan.owner_id:
        return plan.owner
    return (User.objects.filter(memberships__tenant_id=plan.tenant_id, memberships__is_active=True,
                                memberships__accepted_at__isnull=False, is_active=True,
                                memberships__role_links__role__code=QA_MANAGER)
            .order_by("pk").first())


def _react(signal: SPCSignal, plan: ReactionPlan) -> None:
    """Run the reaction plan of a new signal, in the transaction that records it."""
    if plan.tenant_id is None:
        plan.tenant_id = current_tenant().pk
    definition = signal.definition
    actions: list[str] = []
    signal.severity = plan.severity
    url = reverse("spc:spcsignal-detail", args=[signal.pk])
    title = f"SPC signal on {definition.label}: {signal.rule}"
    body = f"{signal.description}. {plan.instructions}".strip()
    sent = notify(recipients=_recipients(plan), kind=NOTIFY_KIND, title=title, body=body, url=url,
                  dedupe_key=f"spc.signal:{signal.pk}")
    if sent:
        actions.append(f"Notified {len(sent)} {'person' if len(sent) == 1 else 'people'}.")
    if plan.hold_parts:
        held, skipped = [], []
        holdable = PART_TRANSITIONS[TransitionAction.HOLD]
        for part in Part.objects.filter(pk__in=signal.part_ids).order_by("pk"):
            if part.status in holdable and part.archived_at is None:
                part_hold(part=part, reason=f"SPC signal #{signal.pk} ({signal.rule}) on {definition.label}")
                held.append(part.serial_number)
            else:
                skipped.append(f"{part.serial_number} ({part.get_status_display().lower()})")
        if held:
            actions.append(f"Held {', '.join(held)}.")
        if skipped:
            actions.append(f"Not held: {', '.join(skipped)}.")
    if plan.hold_step and signal.step_id:
        signal.step_held = True
        actions.append(f"Stopped step '{Step.objects.get(pk=signal.step_id).name}' for new parts until acknowledged.")
    owner = _owner(plan) if (plan.open_nonconformance or plan.open_capa) else None
    if plan.open_nonconformance or plan.open_capa:
        actions.append("Asked the quality module for " + " and ".join(
            x for x, on in (("a nonconformance", plan.open_nonconformance), ("a CAPA", plan.open_capa)) if on) + ".")
    signal.actions = actions
    signal.save(update_fields=["severity", "step_held", "actions", "updated_at"])
    publish(SignalRaised(signal_id=signal.pk, definition_id=definition.pk, label=definition.label, rule=signal.rule,
                         description=signal.description, severity=signal.severity, step_id=signal.step_id,
                         part_ids=list(signal.part_ids), open_nonconformance=plan.open_nonconformance,
                         open_capa=plan.open_capa, owner_id=owner.pk if owner else None, url=url))


def signal_link_add(*, signal_id: int, kind: str, record_id: int, label: str, url: str = "") -> bool:
    """Record that ``kind`` #``record_id`` was opened for the signal (once per kind and record)."""
    with transaction.atomic():
        signal = SPCSignal.objects.select_for_update().filter(pk=signal_id).first()
        if signal is None:
            return False
        if any(link.get("kind") == kind and link.get("id") == record_id for link in signal.links):
            return False
        SPCSignal.objects.filter(pk=signal.pk).update(
            links=[*signal.links, {"kind": kind, "id": record_id, "label": label[:100], "url": url[:300]}],
            version=F("version") + 1, updated_at=timezone.now())
    return True


# The step guard ------------------------------------------------------------------------------------

def step_hold_refusal(*, step: Step | None = None, **_: Any) -> str | None:
    """Why no part may advance from ``step``: a new signal whose reaction plan stopped it."""
    if step is None:
        return None
    held = (SPCSignal.objects.filter(step_held=True, step_id=step.pk, status=SignalStatus.NEW)
            .select_related("definition").order_by("pk").first())
    if held is None:
        return None
    return (f"Step '{step.name}' is stopped by SPC signal #{held.pk} ({held.rule}) on {held.definition.label}: "
            "it moves again once the signal is acknowledged with a signature.")


# Handling ------------------------------------------------------------------------------------------

def _transition(signal: SPCSignal, action: str, version: int | None) -> SPCSignal:
    locked = SPCSignal.objects.select_for_update().get(pk=signal.pk)
    allowed, _ = TRANSITIONS[action]
    if locked.status not in allowed:
        raise Conflict(f"{locked} is {locked.get_status_display().lower()}: it cannot be {action}d now.",
                       fields={"status": [locked.status]})
    if version is not None and version != locked.version:
        raise Conflict(f"{locked} changed since you read it: review it again.",
                       fields={"version": [f"expected {locked.version}, got {version}"]})
    return locked


def _text(value: Any, name: str, *, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(f"{name.capitalize()}: required.", fields={name: ["required"]})
    if len(text) > 2000:
        raise InvalidInput(f"{name.capitalize()}: at most 2,000 characters.", fields={name: ["too long"]})
    return text


def signal_acknowledge(*, signal: SPCSignal, user: User, password: str, comment: str = "",
                       version: int | None = None, ip: str | None = None) -> SPCSignal:
    """``user`` acknowledges the signal with a signature (meaning "acknowledged"); a step it stopped
    moves again."""
    comment = _text(comment, "comment", required=False)
    confirmation = password_confirm(user=user, password=password, ip=ip)
    with transaction.atomic(), audit_reason(comment or "SPC signal acknowledged"):
        locked = _transition(signal, "acknowledge", version)
        now = timezone.now()
        SPCSignal.objects.filter(pk=locked.pk).update(
            status=SignalStatus.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=now, acknowledged_comment=comment,
            step_held=False, version=F("version") + 1, updated_at=now)
        locked.refresh_from_db()
        signature_write(confirmation=confirmation, record=locked, meaning="acknowledged", comment=comment)
    return locked


def signal_investigate(*, signal: SPCSignal, cause: str, version: int | None = None) -> SPCSignal:
    """Record what the investigation of an acknowledged signal found."""
    cause = _text(cause, "cause", required=True)
    with transaction.atomic(), audit_reason("SPC signal investigated"):
        locked = _transition(signal, "investigate", version)
        now = timezone.now()
        SPCSignal.objects.filter(pk=locked.pk).update(
            status=SignalStatus.INVESTIGATED, investigated_by=current_actor(), investigated_at=now, cause=cause,
            version=F("version") + 1, updated_at=now)
    locked.refresh_from_db()
    return locked


def signal_close(*, signal: SPCSignal, comment: str, version: int | None = None) -> SPCSignal:
    """Close an acknowledged or investigated signal, saying why (what was done, or why nothing is)."""
    comment = _text(comment, "comment", required=True)
    with transaction.atomic(), audit_reason(comment):
        locked = _transition(signal, "close", version)
        now = timezone.now()
        SPCSignal.objects.filter(pk=locked.pk).update(
            status=SignalStatus.CLOSED, closed_by=current_actor(), closed_at=now, closed_comment=comment,
            version=F("version") + 1, updated_at=now)
    locked.refresh_from_db()
    return locked


def definitions_to_watch(step_id: int) -> list[MeasurementDefinition]:
    """The numeric definitions of ``step_id`` with an active baseline (those a detection looks at)."""
    active = SPCBaseline.objects.filter(status=BaselineStatus.ACTIVE).values("definition_id")
    return list(MeasurementDefinition.objects.filter(step_id=step_id, pk__in=active, archived_at__isnull=True)
                .order_by("pk"))


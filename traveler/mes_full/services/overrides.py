"""Overrides: when a guard blocks a part, someone with ``mes_full.request_override`` asks that one kind
of block (``BlockKind``) be lifted, with a reason and a reach (this part, N parts of its work order at
the step, or its work order's parts at the step until a time); a second person approves it with a
signature, never the requester.

Approval is a direct signed action (``override_approve``), not a core approval request: an override is
one decision by one second person, wanted while the part waits at the station, and an approval request
adds a template, an approver list and a workflow to set up before anyone may say yes; the signature is
the same Part 11 signature (password, printed name, meaning "approved", bound to the override's
version).

The waivers of ``mes.part.advance`` and ``mes.part.out_of_spec`` lift the refusals of an approved,
unexpired override's kind for the parts it covers, and record each part let through; the override's
row is locked while its uses are counted, so N parts means N even under concurrent advances.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import User
from traveler.core.registry import Refusal
from traveler.core.services.records import record_create
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason
from traveler.mes_full.choices import BlockKind, OverrideLimit, OverrideStatus
from traveler.mes_full.events import OverrideApproved, OverrideRequested
from traveler.mes_full.models import StepOverride, StepOverrideUse
from traveler.mes_lite.models import Part

MAX_PARTS = 10_000


def override_request(*, part: Part, block_kind: str, reason: str, user: User, limit: str = OverrideLimit.ONE_PART,
                     max_parts: int | None = None, expires_at: datetime | None = None,
                     refusal: str = "") -> StepOverride:
    """Ask that ``part`` (and, by ``limit``, more parts of its work order at its step) may pass blocks of
    ``block_kind`` at its current step."""
    if block_kind not in BlockKind.values:
        raise InvalidInput(f"An override lifts one of: {', '.join(BlockKind.values)}.",
                           fields={"block_kind": ["not a kind an override lifts"]})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the part may pass.", fields={"reason": ["required"]})
    if limit not in OverrideLimit.values:
        raise InvalidInput(f"limit must be one of {', '.join(OverrideLimit.values)}.", fields={"limit": ["unknown"]})
    if limit == OverrideLimit.PARTS:
        if not isinstance(max_parts, int) or isinstance(max_parts, bool) or not 1 <= max_parts <= MAX_PARTS:
            raise InvalidInput(f"Say for how many parts (1 to {MAX_PARTS}).", fields={"max_parts": ["1 or more"]})
    else:
        max_parts = None
    if limit == OverrideLimit.UNTIL:
        if expires_at is None or expires_at <= timezone.now():
            raise InvalidInput("Say until when, in the future.", fields={"expires_at": ["a time to come"]})
    else:
        expires_at = None
    if part.current_step_id is None:
        raise Conflict(f"Part {part.serial_number} is at no step.", fields={"part": ["at no step"]})
    with transaction.atomic():
        override = record_create(StepOverride, data={
            "part": part, "step_id": part.current_step_id, "work_order_id": part.work_order_id,
            "block_kind": block_kind, "refusal": (refusal or "")[:2000], "reason": reason, "limit": limit,
            "max_parts": max_parts, "expires_at": expires_at, "requested_by": user, "requested_at": timezone.now(),
        }, reason=reason)
        publish(OverrideRequested(override_id=override.pk, part_id=part.pk, step_id=override.step_id,
                                  block_kind=block_kind))
    return override


def _locked(override: StepOverride) -> StepOverride:
    return StepOverride.objects.select_for_update().get(pk=override.pk)


def override_approve(*, override: StepOverride, user: User, password: str, note: str = "",
                     version: int | None = None, ip: str | None = None) -> StepOverride:
    """A second person approves the override with their signature: it acts from now on."""
    if override.requested_by_id == user.pk:
        raise Conflict("You requested this override: another person approves it.",
                       fields={"approved_by": ["the requester cannot approve"]})
    if override.override_status != OverrideStatus.REQUESTED:
        raise Conflict(f"This override is {override.get_override_status_display().lower()}, not awaiting approval.",
                       fields={"override_status": [override.override_status]})
    if override.limit == OverrideLimit.UNTIL and override.expires_at <= timezone.now():
        raise Conflict("This override expired before it was approved.", fields={"expires_at": ["past"]})
    confirmation = password_confirm(user=user, password=password, ip=ip)
    with transaction.atomic(), audit_reason(note or "override approved"):
        locked = _locked(override)
        if locked.override_status != OverrideStatus.REQUESTED or (version is not None and locked.version != version):
            raise Conflict("The override changed since you opened it: reload it.", fields={"version": [str(locked.version)]})
        now = timezone.now()
        StepOverride.objects.filter(pk=locked.pk).update(
            override_status=OverrideStatus.APPROVED, approved_by=user, approved_at=now,
            approval_notes=(note or "").strip(), version=locked.version + 1, updated_at=now)
        locked.refresh_from_db()
        signature_write(confirmation=confirmation, record=locked, meaning="approved", comment=note or "")
        publish(OverrideApproved(override_id=locked.pk, part_id=locked.part_id, step_id=locked.step_id,
                                 block_kind=locked.block_kind))
    return locked


def override_reject(*, override: StepOverride, user: User, note: str) -> StepOverride:
    """Refuse a requested override (the approver), or withdraw it (the requester: cancelled)."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Say why.", fields={"note": ["required"]})
    with transaction.atomic(), audit_reason(note):
        locked = _locked(override)
        if locked.override_status != OverrideStatus.REQUESTED:
            raise Conflict(f"This override is {locked.get_override_status_display().lower()}, not awaiting approval.",
                           fields={"override_status": [locked.override_status]})
        status = OverrideStatus.CANCELLED if user.pk == locked.requested_by_id else OverrideStatus.REJECTED
        StepOverride.objects.filter(pk=locked.pk).update(
            override_status=status, approval_notes=note, version=locked.version + 1, updated_at=timezone.now(),
            **({"approved_by": user} if status == OverrideStatus.REJECTED else {}))
        locked.refresh_from_db()
    return locked


# What an override covers -----------------------------------------------------------------------------

def is_active(o: StepOverride, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if o.override_status != OverrideStatus.APPROVED:
        return False
    if o.limit == OverrideLimit.UNTIL:
        return o.expires_at is not None and o.expires_at > now
    if o.limit == OverrideLimit.PARTS:
        return o.uses < (o.max_parts or 0)
    return o.uses < 1


def _candidates(*, parts, step, kinds, lock: bool):
    part_ids = [p.pk for p in parts]
    wo_ids = {p.work_order_id for p in parts if p.work_order_id}
    q = Q(part_id__in=part_ids)
    if wo_ids:
        q |= Q(work_order_id__in=wo_ids, limit__in=[OverrideLimit.PARTS, OverrideLimit.UNTIL])
    rows = StepOverride.objects.filter(q, step=step, block_kind__in=kinds, override_status=OverrideStatus.APPROVED)
    if lock:
        rows = rows.select_for_update()
    return list(rows.order_by("approved_at", "pk"))


def _covers(o: StepOverride, part: Part, already: set, now) -> bool:
    if o.limit == OverrideLimit.ONE_PART:
        return o.part_id == part.pk and (o.uses < 1 or (o.pk, part.pk) in already)
    if o.work_order_id != part.work_order_id and o.part_id != part.pk:
        return False
    if o.limit == OverrideLimit.UNTIL:
        return o.expires_at is not None and o.expires_at > now
    return (o.pk, part.pk) in already or o.uses < (o.max_parts or 0)


def overrides_covering(*, parts, step, kinds) -> dict[tuple[str, int], StepOverride]:
    """Which active override would lift a block of each kind for each part (nothing is used)."""
    now = timezone.now()
    found = {}
    for o in _candidates(parts=parts, step=step, kinds=kinds, lock=False):
        for p in parts:
            if (o.block_kind, p.pk) not in found and _covers(o, p, set(), now):
                found[(o.block_kind, p.pk)] = o
    return found


def overrides_waive(refusals: list[Refusal], *, parts, step, **_) -> list[Refusal]:
    """The waiver of ``mes.part.advance`` and ``mes.part.out_of_spec``: the refusals still standing after
    approved overrides lifted theirs; each part let through is recorded as a use of its override."""
    liftable = [r for r in refusals if r.overridable and r.kind in BlockKind.values]
    if not liftable or step is None or not parts:
        return refusals
    overrides = _candidates(parts=parts, step=step, kinds={r.kind for r in liftable}, lock=True)
    if not overrides:
        return refusals
    now = timezone.now()
    by_id = {p.pk: p for p in parts}
    already = set(StepOverrideUse.objects.filter(override__in=overrides, part_id__in=by_id)
                  .values_list("override_id", "part_id"))
    uses: dict[tuple[int, int], str] = {}
    standing = []
    for r in refusals:
        if r not in liftable:
            standing.append(r)
            continue
        uncovered = []
        for pid in r.part_ids or tuple(by_id):
            part = by_id.get(pid)
            chosen = next((o for o in overrides if o.block_kind == r.kind and part is not None
                           and _covers(o, part, already, now)), None)
            if chosen is None:
                uncovered.append(pid)
                continue
            if (chosen.pk, pid) not in already:
                already.add((chosen.pk, pid))
                chosen.uses += 1
                uses[(chosen.pk, pid)] = r.reason
        if uncovered:
            standing.append(r if len(uncovered) == len(r.part_ids or by_id) else
                            Refusal(r.reason, kind=r.kind, part_ids=tuple(uncovered), overridable=r.overridable))
    if uses:
        StepOverrideUse.objects.bulk_create([
            StepOverrideUse(override_id=o, part_id=p, step_id=step.pk, refusal=text[:2000], used_at=now)
            for (o, p), text in uses.items()])
        for o in {o for o, _ in uses}:
            row = next(x for x in overrides if x.pk == o)
            done = (row.limit == OverrideLimit.ONE_PART or
                    (row.limit == OverrideLimit.PARTS and row.uses >= (row.max_parts or 0)))
            with audit_reason(f"override used for {sum(1 for x, _ in uses if x == o)} part(s)"):
                # The count is not what the approver signed: the version (and the signature) stay.
                StepOverride.objects.filter(pk=o).update(
                    uses=row.uses, updated_at=now,
                    **({"override_status": OverrideStatus.EXPIRED} if done else {}))
    return standing


# Reading -------------------------------------------------------------------------------------------------

def overrides_inbox(*, user: User, may_approve: bool) -> dict[str, list[StepOverride]]:
    """The override requests a user sees: awaiting their approval (not their own), theirs, and active."""
    base = StepOverride.objects.select_related("part", "step", "requested_by", "approved_by")
    now = timezone.now()
    active = [o for o in base.filter(override_status=OverrideStatus.APPROVED).order_by("-approved_at", "-pk")[:200]
              if is_active(o, now)]
    return {
        "to_approve": list(base.filter(override_status=OverrideStatus.REQUESTED).exclude(requested_by=user)
                           .order_by("requested_at", "pk")[:200]) if may_approve else [],
        "mine": list(base.filter(requested_by=user).order_by("-requested_at", "-pk")[:100]),
        "active": active,
    }


def overrides_of_part(part: Part) -> list[dict]:
    """The overrides requested for a part and those that let it through, for its traveler."""
    uses = {u.override_id: u for u in StepOverrideUse.objects.filter(part=part).order_by("used_at", "pk")}
    rows = (StepOverride.objects.filter(Q(part=part) | Q(pk__in=list(uses)))
            .select_related("step", "requested_by", "approved_by").order_by("requested_at", "pk"))
    return [{"override": o, "use": uses.get(o.pk)} for o in rows]

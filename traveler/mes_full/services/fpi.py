"""First-piece inspection: the guard on the advance, designation, the first piece's inspection, its
failure and its waiver.

The first part of a scope that comes to pass an FPI step is its first piece (of the parts advanced
together, the first in the work order). The guard designates it in the advance's own transaction, under
the record's unique index, so two first parts at once cannot both be designated; when that advance is
refused (the first piece waits for its inspection), the designation is written explicitly by
``fpi_designate`` (the station's "first piece" action, the API) or with its inspection
(``fpi_inspection_record``). The first piece passes once its inspection at the step passed
(``services.requirements.inspection_record``); until then the other parts of the scope wait. A failed
first piece blocks the scope (``mes_full.fpi.failed``; a quality module opens a nonconformance) until
the failure is waived through a signed approval ("fpi waiver") or the scope starts over with a new
first piece (``fpi_restart``).

The guard costs a constant number of queries per advance: the step's requirement, the scope's current
record, and (while the first piece has not passed) its inspection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import ApprovalTemplate, Role, User
from traveler.core.models.approvals import Flow
from traveler.core.registry import Refusal
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant, tenant_context
from traveler.mes_full.choices import BlockKind, FPIScope, FPIStatus
from traveler.mes_full.events import FPIFailed, FPIPassed, FPIWaived
from traveler.mes_full.models import FPIRecord, FPIRequirement, StepInspection
from traveler.mes_full.services.requirements import inspection_record, inspections_this_visit
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Equipment, Part, Step

WAIVER_TEMPLATE = "fpi_waiver"
WAIVER_DEFAULT = {"name": "First-piece inspection waiver", "flow": Flow.ANY, "sla_days": 1,
                  "description": "A QA manager's signature lets a scope go on although its first piece failed."}
DONE = (FPIStatus.PASSED, FPIStatus.WAIVED)
WAITING = (PartStatus.PENDING, PartStatus.IN_PROCESS)


def clock() -> datetime:
    """Now, as the guard sees it (one place for tests to move the time of day)."""
    return timezone.now()


# Scopes -----------------------------------------------------------------------------------------------

def shift_of(hours: list[int], at: datetime) -> tuple[str, str]:
    """The shift ``at`` falls in, given the hours (local time) at which shifts start: its key (the day
    it started and its number that day) and its label. Before the day's first start it is still the
    previous day's last shift."""
    starts = sorted({h for h in hours if 0 <= h <= 23}) or [0]
    local = timezone.localtime(at)
    day = local.date()
    started = [h for h in starts if h <= local.hour]
    if started:
        hour = started[-1]
    else:
        hour, day = starts[-1], day - timedelta(days=1)
    number = starts.index(hour) + 1
    return f"{day.isoformat()}#{number}", f"shift {number} of {day.isoformat()} (from {hour:02d}:00)"


def scope_of(requirement: FPIRequirement, *, work_order_id: int | None, operator: User | None,
             equipment: list[Equipment], at: datetime) -> tuple[str, str]:
    """The scope key of an advance (or an inspection) and its label, in words."""
    key = f"wo{work_order_id or 0}"
    scope = requirement.scope
    if scope == FPIScope.SHIFT:
        shift, label = shift_of(requirement.shift_hours, at)
        return f"{key}:shift{shift}", label
    if scope == FPIScope.EQUIPMENT:
        if not equipment:
            return f"{key}:eq-", "work without equipment"
        ids = sorted({e.pk for e in equipment})
        return f"{key}:eq{','.join(map(str, ids))}", ", ".join(sorted({e.name for e in equipment}))
    if scope == FPIScope.OPERATOR:
        if operator is None:
            return f"{key}:op-", "no operator"
        return f"{key}:op{operator.pk}", operator.full_name or operator.email
    return key, "this work order"


def requirement_of(step: Step | int | None) -> FPIRequirement | None:
    if step is None:
        return None
    return FPIRequirement.objects.filter(step=step, archived_at__isnull=True).order_by("pk").first()


def current_record(step: Step, key: str) -> FPIRecord | None:
    return FPIRecord.objects.filter(step=step, scope_key=key, current=True).select_related("part").first()


# The guard ----------------------------------------------------------------------------------------------

def _serials(parts, limit: int = 5) -> str:
    named = [p.serial_number for p in parts]
    return ", ".join(named[:limit]) + (f" and {len(named) - limit} more" if len(named) > limit else "")


def _failed(record: FPIRecord, step: Step, label: str, parts) -> Refusal:
    return Refusal(f"First-piece inspection failed at '{step.name}' for {label}: first piece "
                   f"{record.part.serial_number} failed. {_serials(parts)} wait until the failure is waived (signed "
                   "approval) or a new first piece passes.", kind=BlockKind.FPI_FAILED,
                   part_ids=tuple(p.pk for p in parts))


def _waiting(first: Part, step: Step, label: str, parts, inspected: StepInspection | None) -> list[Refusal]:
    """The refusals while ``first`` has not passed: the first piece itself, and the others of the scope."""
    out = []
    others = [p for p in parts if p.pk != first.pk]
    if len(others) < len(parts):
        if inspected is not None and not inspected.passed:
            text = (f"{first.serial_number} is the first piece at '{step.name}' for {label} and failed its "
                    "inspection.")
        else:
            text = (f"{first.serial_number} is the first piece at '{step.name}' for {label}: it passes once its "
                    "first-piece inspection passed (an inspector signs it off).")
        out.append(Refusal(text, kind=BlockKind.FPI_FAILED, part_ids=(first.pk,)))
    if others:
        out.append(Refusal(f"First-piece inspection pending at '{step.name}' for {label}: first piece "
                           f"{first.serial_number}. {_serials(others)} wait until it passed.",
                           kind=BlockKind.FPI_FAILED, part_ids=tuple(p.pk for p in others)))
    return out


def fpi_guard(*, parts, step, equipment, operator, preview: bool = False, **_) -> list[Refusal]:
    """The guard on ``mes.part.advance`` (see the module docstring). ``preview``: only say what blocks
    (the station's step panel), write nothing."""
    if step is None or not parts:
        return []
    requirement = requirement_of(step)
    if requirement is None:
        return []
    now = clock()
    refusals: list[Refusal] = []
    by_order: dict[int | None, list[Part]] = {}
    for p in parts:  # a bulk advance is of one work order; a single advance of one part
        by_order.setdefault(p.work_order_id, []).append(p)
    for wo_id, group in by_order.items():
        key, label = scope_of(requirement, work_order_id=wo_id, operator=operator, equipment=equipment, at=now)
        refusals += _scope_check(requirement, step, key, label, wo_id, group, operator, now, preview)
    return refusals


def _scope_check(requirement, step, key, label, wo_id, parts, operator, now, preview=False) -> list[Refusal]:
    record = current_record(step, key)
    if record is not None and record.fpi_status in DONE:
        return []
    if record is not None and record.fpi_status == FPIStatus.FAILED:
        return [_failed(record, step, label, parts)]
    first = record.part if record is not None else min(parts, key=lambda p: (p.sequence or 0, p.pk))
    inspected = inspections_this_visit([first.pk], step).get(first.pk)
    if inspected is None or not inspected.passed:
        return _waiting(first, step, label, parts, inspected)
    # The first piece passed its inspection: the first-piece inspection passed, and the scope goes on.
    if preview:
        return []
    if record is None:
        record = FPIRecord(step=step, scope=requirement.scope, scope_key=key, scope_label=label[:300],
                           work_order_id=wo_id, part=first, designated_at=now, designated_by=operator)
        try:
            with transaction.atomic():
                _passed(record, inspected, now, create=True)
        except IntegrityError:  # designated meanwhile by a concurrent advance: that one counts
            return _scope_check(requirement, step, key, label, wo_id, parts, operator, now)
    else:
        _passed(record, inspected, now)
    return []


def _passed(record: FPIRecord, inspection: StepInspection, now, *, create: bool = False) -> None:
    record.fpi_status, record.inspection = FPIStatus.PASSED, inspection
    record.verified_at, record.verified_by_id = inspection.inspected_at, inspection.inspector_id
    with audit_reason("first piece passed its inspection"):
        if create:
            record.save(force_insert=True)
        else:
            FPIRecord.objects.filter(pk=record.pk).update(
                fpi_status=FPIStatus.PASSED, inspection=inspection, verified_at=inspection.inspected_at,
                verified_by_id=inspection.inspector_id, version=record.version + 1, updated_at=now)
    publish(FPIPassed(fpi_id=record.pk, part_id=record.part_id, step_id=record.step_id))


# Designation, inspection, failure -------------------------------------------------------------------

def _scope_for_part(part: Part, *, operator: User | None, equipment: list[Equipment], at: datetime):
    if part.current_step_id is None or part.status not in (*WAITING, PartStatus.ON_HOLD):
        raise Conflict(f"Part {part.serial_number} is not waiting at a step.", fields={"part": [part.status]})
    requirement = requirement_of(part.current_step_id)
    if requirement is None:
        raise InvalidInput(f"Step '{part.current_step.name}' needs no first-piece inspection.",
                           fields={"part": ["no first-piece inspection at its step"]})
    if requirement.scope == FPIScope.OPERATOR and operator is None:
        raise InvalidInput("Say whose first piece it is.", fields={"operator": ["required for a per operator scope"]})
    key, label = scope_of(requirement, work_order_id=part.work_order_id, operator=operator, equipment=equipment,
                          at=at)
    return requirement, key, label


def fpi_designate(*, part: Part, operator: User | None = None, equipment: list[Equipment] | None = None,
                  note: str = "") -> FPIRecord:
    """Make ``part`` the first piece of its scope at its step (the operator's, with that equipment, now).
    Returns the scope's current record if ``part`` already is its first piece; another first piece of
    the scope is a 409."""
    equipment = list(equipment or [])
    operator = operator or current_actor()
    now = clock()
    requirement, key, label = _scope_for_part(part, operator=operator, equipment=equipment, at=now)
    with transaction.atomic():
        existing = FPIRecord.objects.select_for_update().filter(step_id=part.current_step_id, scope_key=key,
                                                                current=True).select_related("part").first()
        if existing is not None:
            if existing.part_id == part.pk:
                return existing
            raise Conflict(f"{existing.part.serial_number} is already the first piece at '{part.current_step.name}' "
                           f"for {existing.scope_label}.", fields={"part": ["scope has a first piece"]})
        try:
            return record_create(FPIRecord, data={
                "step_id": part.current_step_id, "scope": requirement.scope, "scope_key": key,
                "scope_label": label[:300], "work_order_id": part.work_order_id, "part": part, "designated_at": now,
                "designated_by": current_actor(), "notes": (note or "").strip()}, reason="first piece designated")
        except Conflict:
            raise Conflict(f"Another first piece was designated at '{part.current_step.name}' for {label} meanwhile: "
                           "reload.", fields={"part": ["scope has a first piece"]}) from None


def fpi_inspection_record(*, part: Part, passed: bool, user: User, password: str, note: str = "",
                          operator: User | None = None, equipment: list[Equipment] | None = None,
                          record: FPIRecord | None = None, ip: str | None = None) -> FPIRecord:
    """Record the first piece's inspection (signed by the inspector, ``inspection_record``): of
    ``record``'s first piece, or of ``part``, designated first if its scope (``operator``, ``equipment``,
    now) has no first piece yet; passed, the scope goes on; failed, the part is held and the scope
    blocked (``mes_full.fpi.failed``)."""
    with transaction.atomic():
        if record is not None:
            record = FPIRecord.objects.select_for_update().get(pk=record.pk)
            if not record.current or record.part_id != part.pk:
                raise Conflict("This first-piece record is no longer current: reload.", fields={"fpi": ["not current"]})
        else:
            record = fpi_designate(part=part, operator=operator or current_actor(), equipment=equipment)
        if record.fpi_status != FPIStatus.PENDING:
            status = record.get_fpi_status_display().lower()
            raise Conflict(f"The first-piece inspection of {part.serial_number} is {status} already.",
                           fields={"fpi_status": [record.fpi_status]})
        inspection = inspection_record(part=part, passed=passed, user=user, password=password, note=note, ip=ip,
                                       failure=f"First piece {part.serial_number} failed")
        if passed:
            _passed(record, inspection, timezone.now())
        else:
            _fail(record, inspection)
        record.refresh_from_db()
    return record


def _fail(record: FPIRecord, inspection: StepInspection) -> None:
    now = timezone.now()
    with audit_reason(f"first piece failed: {inspection.note}"[:300]):
        n = FPIRecord.objects.filter(pk=record.pk, fpi_status=FPIStatus.PENDING).update(
            fpi_status=FPIStatus.FAILED, inspection=inspection, verified_at=inspection.inspected_at,
            verified_by_id=inspection.inspector_id, version=record.version + 1, updated_at=now)
    if not n:
        return
    part = Part.objects.select_related("current_step").get(pk=record.part_id)
    step = Step.objects.get(pk=record.step_id)
    publish(FPIFailed(fpi_id=record.pk, part_id=part.pk, serial_number=part.serial_number, step_id=step.pk,
                      step_name=step.name, work_order_id=record.work_order_id, scope=record.scope,
                      scope_label=record.scope_label, note=inspection.note))


def fpi_failure_from_hold(*, part_id: int) -> FPIRecord | None:
    """A part held after a failed inspection at its step: if it is a pending first piece there, its
    first-piece inspection failed (the inspection was signed off without the first-piece action)."""
    with transaction.atomic():
        record = (FPIRecord.objects.select_for_update().filter(part_id=part_id, current=True,
                                                               fpi_status=FPIStatus.PENDING).first())
        if record is None:
            return None
        inspection = inspections_this_visit([part_id], Step(pk=record.step_id)).get(part_id)
        if inspection is None or inspection.passed:
            return None
        _fail(record, inspection)
    record.refresh_from_db()
    return record


def fpi_restart(*, record: FPIRecord, reason: str) -> FPIRecord:
    """Start a scope over after its first piece failed (the set-up was corrected): the record stays, no
    longer current, and the next part to pass the step is the scope's new first piece."""
    if not (reason or "").strip():
        raise InvalidInput("Say what was corrected.", fields={"reason": ["required"]})
    if record.fpi_status != FPIStatus.FAILED or not record.current:
        raise Conflict("Only the current record of a failed first piece is started over.",
                       fields={"fpi_status": [record.fpi_status]})
    return record_update(record, version=record.version, data={"current": False, "notes": (
        f"{record.notes}\n" if record.notes else "") + f"Started over: {reason.strip()}"}, reason=reason.strip())


# The waiver ---------------------------------------------------------------------------------------------

def waiver_template(tenant) -> ApprovalTemplate:
    """The tenant's "fpi waiver" template, created once (any one QA manager approves)."""
    from traveler.core.services.approval_templates import approval_template_create

    with tenant_context(tenant), transaction.atomic():
        template = (ApprovalTemplate.objects.filter(template_type=WAIVER_TEMPLATE, archived_at__isnull=True)
                    .order_by("pk").first())
        if template is None:
            template = approval_template_create(data={**WAIVER_DEFAULT, "template_type": WAIVER_TEMPLATE},
                                                approvers=[{"role": Role.objects.get(code="qa_manager")}])
    return template


def fpi_waiver_request(*, record: FPIRecord, reason: str, user: User):
    """Ask for a waiver of a failed (or still pending) first piece: an approval request whose approver
    signs it; once approved, the scope goes on (``fpi_waive``)."""
    from traveler.core.services.approvals import approval_request_create

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the first-piece inspection may be waived.", fields={"reason": ["required"]})
    if not record.current or record.fpi_status not in (FPIStatus.FAILED, FPIStatus.PENDING):
        raise Conflict(f"A {record.get_fpi_status_display().lower()} first-piece inspection is not waived.",
                       fields={"fpi_status": [record.fpi_status]})
    with transaction.atomic():
        record = record_update(record, version=record.version, data={"waiver_reason": reason},
                               reason=f"waiver requested: {reason}")
        request = approval_request_create(record=record, template=waiver_template(current_tenant()),
                                          requested_by=user, notes=reason)
        record = record_update(record, version=record.version, data={"waiver_request": request},
                               reason="waiver requested")
    return request


def fpi_waive(*, record: FPIRecord, request_id: int) -> FPIRecord:
    """The waiver's approval was given: the scope goes on."""
    with transaction.atomic():
        locked = FPIRecord.objects.select_for_update().get(pk=record.pk)
        if locked.fpi_status in DONE or not locked.current:
            return locked
        record = record_update(locked, version=locked.version, data={
            "fpi_status": FPIStatus.WAIVED, "waived_at": timezone.now()},
            reason=f"waived: approval request #{request_id}")
        publish(FPIWaived(fpi_id=record.pk, part_id=record.part_id, step_id=record.step_id, request_id=request_id))
    return record


# Reading ---------------------------------------------------------------------------------------------------

def fpi_board(*, step: Step | None = None) -> list[dict]:
    """The current first pieces by step and scope, each with the parts of its work order waiting at the
    step (for a passed or waived one: none wait for it)."""
    records = list(FPIRecord.objects.filter(current=True, **({"step": step} if step else {}))
                   .select_related("part", "step", "work_order").order_by("step__name", "-designated_at", "pk"))
    wo_steps = {(r.work_order_id, r.step_id) for r in records if r.fpi_status not in DONE}
    waiting: dict[tuple, list[Part]] = {}
    if wo_steps:
        rows = Part.objects.filter(work_order_id__in={w for w, _ in wo_steps}, current_step_id__in={s for _, s in wo_steps},
                                   status__in=[*WAITING, PartStatus.ON_HOLD]).order_by("sequence", "pk")
        for p in rows:
            waiting.setdefault((p.work_order_id, p.current_step_id), []).append(p)
    return [{"record": r, "waiting": [p for p in waiting.get((r.work_order_id, r.step_id), []) if p.pk != r.part_id]
             if r.fpi_status not in DONE else []} for r in records]


def requirement_set(*, step: Step, scope: str, shift_hours: list[int] | None = None, note: str = "") -> FPIRequirement:
    """Require a first-piece inspection at ``step`` for ``scope`` (replacing the step's current one)."""
    if scope not in FPIScope.values:
        raise InvalidInput(f"scope must be one of {', '.join(FPIScope.values)}.", fields={"scope": ["unknown"]})
    hours = list(shift_hours) if shift_hours is not None else None
    if hours is not None and (not hours or any(not isinstance(h, int) or not 0 <= h <= 23 for h in hours)):
        raise InvalidInput("Shift start hours are whole hours from 0 to 23.", fields={"shift_hours": ["0 to 23"]})
    with transaction.atomic():
        current = FPIRequirement.objects.select_for_update().filter(step=step, archived_at__isnull=True).first()
        data = {"scope": scope, "note": note, **({"shift_hours": sorted(set(hours))} if hours else {})}
        if current is not None:
            return record_update(current, version=current.version, data=data)
        return record_create(FPIRequirement, data={"step": step, **data})

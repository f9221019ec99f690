"""Rollbacks: move a part back to an earlier step of its route, with a reason and an approval.

``rollback_request`` records the request and puts it through an approval of template type
``step_rollback`` (seeded once per tenant: any one Production or QA Manager, never the requester
unless the template allows it). The approval's outcome event acts (see ``handlers.py``):
``rollback_complete`` moves the part back through MES Lite's ``part_rework`` (a log row of its own, the
original passages left as they were) and lists the log rows of the passages it undid;
``rollback_reject`` closes a rejected or cancelled request. Measurements recorded with the undone
passages stay in the record and count as superseded (``superseded_measurement_ids``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import ApprovalTemplate, Role, User
from traveler.core.models.approvals import Flow
from traveler.core.services.approval_templates import approval_template_create
from traveler.core.services.approvals import approval_request_create
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, tenant_context
from traveler.mes_full.events import RollbackCompleted
from traveler.mes_full.models.rollbacks import RollbackStatus, StepRollback
from traveler.mes_lite.choices import PART_TRANSITIONS, TransitionAction
from traveler.mes_lite.models import Part, Step, StepMeasurement, StepTransitionLog
from traveler.mes_lite.services.parts import part_rework, part_rework_attempts
from traveler.mes_lite.services.routing import route_steps

ROLLBACK_TEMPLATE = "step_rollback"
DEFAULT_TEMPLATE = {"name": "Step rollback", "flow": Flow.ANY, "sla_days": 2,
                    "description": "Approval of moving a part back to an earlier step of its route."}
# The log rows of a visit a rollback undoes: the moves on from the step, and quarantines at it (both
# carry the measurements recorded there).
PASSAGES = (TransitionAction.ADVANCE, TransitionAction.QUARANTINE, TransitionAction.ACCEPT, TransitionAction.COMPLETE)


def rollback_template_seed(tenant) -> ApprovalTemplate:
    """The tenant's step rollback template, created once (administrators change it afterwards)."""
    with tenant_context(tenant), transaction.atomic():
        template = (ApprovalTemplate.objects.filter(template_type=ROLLBACK_TEMPLATE, archived_at__isnull=True)
                    .order_by("pk").first())
        if template is None:
            template = approval_template_create(
                data={**DEFAULT_TEMPLATE, "template_type": ROLLBACK_TEMPLATE},
                approvers=[{"role": Role.objects.get(code="production_manager"), "required": False},
                           {"role": Role.objects.get(code="qa_manager"), "required": False}])
    return template


def rollback_targets(*, part: Part) -> list[Step]:
    """The steps of the part's route before the one it is at: where a rollback may take it."""
    route = route_steps(part.process, strict=False)
    ids = [s.pk for s in route]
    return route[:ids.index(part.current_step_id)] if part.current_step_id in ids else []


def _check(part: Part, to_step: Step | None) -> None:
    if part.status not in PART_TRANSITIONS[TransitionAction.REWORK]:
        raise Conflict(f"Part {part.serial_number} is {part.get_status_display().lower()}: only a part in process, "
                       "quarantined or on hold at a step is rolled back.", fields={"status": [part.status]})
    if not isinstance(to_step, Step):
        raise InvalidInput("Say which earlier step the part goes back to.", fields={"to_step": ["required"]})
    if to_step.pk not in {s.pk for s in rollback_targets(part=part)}:
        raise InvalidInput(f"Step '{to_step.name}' is not an earlier step of {part.serial_number}'s route.",
                           fields={"to_step": ["not an earlier step"]})
    limit = part.part_type.max_rework_attempts
    if limit is not None and part_rework_attempts(part=part) >= limit:
        raise Conflict(f"{part.serial_number} was sent back {limit} time(s), the limit of its part type: it can only "
                       "be scrapped or accepted as it is.", fields={"to_step": ["rework limit reached"]})


def rollback_request(*, part: Part, to_step: Step | None, reason: str, user: User) -> StepRollback:
    """Ask to move ``part`` back to ``to_step``; the move waits for the approval."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput("Say why the part goes back.", fields={"reason": ["required"]})
    if len(reason) > 5000:
        raise InvalidInput("reason: at most 5000 characters.", fields={"reason": ["at most 5000"]})
    template = rollback_template_seed(part.tenant)
    with transaction.atomic(), audit_reason(reason):
        locked = Part.objects.select_for_update().select_related("part_type", "process").get(pk=part.pk)
        _check(locked, to_step)
        if StepRollback.objects.filter(part=locked, status=RollbackStatus.REQUESTED).exists():
            raise Conflict(f"Part {locked.serial_number} already has a rollback awaiting its approval.",
                           fields={"part": ["rollback requested"]})
        rollback = record_create(StepRollback, reason=reason, data={
            "part": locked, "from_step_id": locked.current_step_id, "to_step": to_step, "reason": reason,
            "requested_by": user, "requested_at": timezone.now()})
        step = Step.objects.get(pk=locked.current_step_id)
        request = approval_request_create(
            record=rollback, template=template, requested_by=user,
            notes=f"Part {locked.serial_number} back from step {step.sequence} '{step.name}' to step "
                  f"{to_step.sequence} '{to_step.name}': {reason}")
        return record_update(rollback, version=rollback.version, data={"approval_request_id": request.pk})


def superseded_passages(part: Part, to_step: Step) -> list[int]:
    """The log rows of the part's passages a rollback to ``to_step`` undoes: since the part last came
    to ``to_step`` from elsewhere, its moves on from (and quarantines at) that step and the ones after."""
    arrival = (StepTransitionLog.objects.filter(part=part, to_step=to_step).exclude(from_step=to_step)
               .order_by("-transition_time", "-pk").first())
    rows = StepTransitionLog.objects.filter(part=part, action__in=PASSAGES)
    if arrival is not None:
        rows = rows.filter(transition_time__gte=arrival.transition_time).exclude(pk__lte=arrival.pk)
    return list(rows.order_by("transition_time", "pk").values_list("pk", flat=True))


def _locked(rollback: StepRollback) -> StepRollback:
    locked = StepRollback.objects.select_for_update().get(pk=rollback.pk)
    if locked.status != RollbackStatus.REQUESTED:
        raise Conflict(f"{locked} is {locked.get_status_display().lower()} already.", fields={"status": [locked.status]})
    return locked


def rollback_complete(*, rollback: StepRollback, reason: str) -> StepRollback:
    """The approval was given: move the part back. If it cannot go (it moved meanwhile, a hold that
    only a disposition lifts), the request is closed as rejected with the reason."""
    with transaction.atomic(), audit_reason(reason):
        locked = _locked(rollback)
        part = Part.objects.select_for_update().select_related("part_type", "process").get(pk=locked.part_id)
        problem = None
        if part.current_step_id != locked.from_step_id:
            problem = f"Part {part.serial_number} is no longer at the step the rollback was asked from."
        else:
            try:
                _check(part, locked.to_step)
            except (Conflict, InvalidInput) as exc:
                problem = exc.message
        if problem is None:
            superseded = superseded_passages(part, locked.to_step)
            try:
                with transaction.atomic():
                    part_rework(part=part, to_step=locked.to_step, reason=f"Rollback #{locked.pk}: {locked.reason}")
            except Conflict as exc:  # a guard of the release refused (an open nonconformance)
                problem = exc.message
        if problem is not None:
            return record_update(locked, version=locked.version, reason=problem, data={
                "status": RollbackStatus.REJECTED, "decided_at": timezone.now(),
                "approval_notes": f"{reason}. Not carried out: {problem}"[:5000]})
        move = (StepTransitionLog.objects.filter(part=part, action=TransitionAction.REWORK)
                .order_by("-transition_time", "-pk").first())
        now = timezone.now()
        done = record_update(locked, version=locked.version, reason=reason, data={
            "status": RollbackStatus.COMPLETED, "decided_at": now, "completed_at": now, "approval_notes": reason,
            "transition": move, "superseded_transition_ids": superseded})
        publish(RollbackCompleted(rollback_id=done.pk, part_id=part.pk, from_step_id=done.from_step_id,
                                  to_step_id=done.to_step_id, superseded_transition_ids=superseded))
        return done


def rollback_reject(*, rollback: StepRollback, reason: str) -> StepRollback:
    """The approval was rejected or cancelled: the part stays where it is."""
    with transaction.atomic(), audit_reason(reason):
        locked = _locked(rollback)
        return record_update(locked, version=locked.version, reason=reason, data={
            "status": RollbackStatus.REJECTED, "decided_at": timezone.now(), "approval_notes": reason[:5000]})


# Selectors ------------------------------------------------------------------------------------------

def superseded_transitions(part_ids: list[int]) -> dict[int, StepRollback]:
    """The log rows a completed rollback superseded, of these parts, with the rollback."""
    out: dict[int, StepRollback] = {}
    for rb in StepRollback.objects.filter(part_id__in=part_ids, status=RollbackStatus.COMPLETED).order_by("pk"):
        for t in rb.superseded_transition_ids:
            out[t] = rb
    return out


def superseded_measurement_ids(part_ids: list[int]) -> set[int]:
    """The measurements of these parts recorded with a passage a rollback undid."""
    transitions = superseded_transitions(part_ids)
    if not transitions:
        return set()
    return set(StepMeasurement.objects.filter(part_id__in=part_ids, transition_id__in=list(transitions))
               .values_list("pk", flat=True))


def measurement_superseded(measurement: StepMeasurement) -> bool:
    """Whether a rollback undid the passage ``measurement`` was recorded with (it stays in the record)."""
    return measurement.pk in superseded_measurement_ids([measurement.part_id])

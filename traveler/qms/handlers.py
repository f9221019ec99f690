"""What Quality does when MES Lite's parts move: a part quarantined for measurements out of
specification gets a failed quality report at that step, with those measurements as its results."""

from __future__ import annotations

from traveler.core.eventbus import Delivered, subscribe
from traveler.core.registry import add_guard


@subscribe("mes.part.quarantined", durable=True)
def report_quarantined_part(event: Delivered) -> None:
    """One failed report per quarantine event, however often the event is delivered: the report keeps
    the event's id, unique per tenant."""
    from traveler.core.errors import Conflict
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_lite.choices import TransitionAction
    from traveler.mes_lite.models import EquipmentUsage, Part, Step, StepMeasurement, StepTransitionLog
    from traveler.qms.choices import ReportOrigin, ReportStatus
    from traveler.qms.models import QualityReport
    from traveler.qms.services.reports import quality_report_create

    if QualityReport.objects.filter(source_event_id=event.id).exists():
        return
    step_id = event.payload.get("from_step_id") or event.payload.get("to_step_id")
    part = Part.objects.filter(pk=event.payload["part_id"]).first()
    step = Step.objects.filter(pk=step_id).first() if step_id else None
    if part is None or step is None:
        return
    moves = StepTransitionLog.objects.filter(part=part, action=TransitionAction.QUARANTINE, from_step=step)
    if event.occurred_at is not None:
        moves = moves.filter(transition_time__lte=event.occurred_at)
    move = moves.order_by("-transition_time", "-pk").first()
    measured = []
    equipment = []
    if move is not None:
        measured = list(StepMeasurement.objects.filter(transition=move, in_spec=False).select_related("definition")
                        .order_by("pk"))
        equipment = [u.equipment for u in EquipmentUsage.objects.filter(transition=move).select_related("equipment")
                     if u.equipment.archived_at is None]
    results = [{"definition": m.definition, "value": m.passed if m.value is None else m.value} for m in measured]
    description = (move.note if move is not None and move.note else
                   f"Part {part.serial_number} was quarantined at '{step.name}'.")
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    with tenant_context(current_tenant(), actor=actor):
        try:
            quality_report_create(part=part, step=step, status=ReportStatus.FAIL, description=description,
                                  equipment=equipment, results=results, origin=ReportOrigin.QUARANTINE,
                                  source_event_id=event.id, reason=f"Part quarantined (event #{event.id})")
        except Conflict:  # a concurrent delivery of the same event wrote it first
            return


# Nonconformances -----------------------------------------------------------------------------------

NCR_RECORD = "qms.quarantinedisposition"


def _ncr_guard(**context):
    from traveler.qms.services.nonconformances import part_ncr_refusal

    return part_ncr_refusal(**context)


add_guard("mes.part.advance", _ncr_guard, kind="nonconformance", overridable=False)
add_guard("mes.part.release", _ncr_guard, kind="nonconformance", overridable=False)


def _ncr_of(event: Delivered):
    from traveler.qms.choices import DispositionStatus
    from traveler.qms.models import QuarantineDisposition
    from traveler.qms.services.dispositions import DISPOSITION_TEMPLATE, MRB_TEMPLATE

    if event.payload.get("record_type") != NCR_RECORD or event.payload.get("template_type") not in (
            DISPOSITION_TEMPLATE, MRB_TEMPLATE):
        return None
    ncr = QuarantineDisposition.objects.filter(pk=event.payload["record_id"]).first()
    if ncr is None or ncr.disposition_status != DispositionStatus.AWAITING_APPROVAL:
        return None  # a retried delivery after it acted
    return ncr


def _as_actor(event: Delivered):
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context

    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    return tenant_context(current_tenant(), actor=actor)


@subscribe("core.approval.approved", durable=True)
def act_on_approved_disposition(event: Delivered) -> None:
    """The approval of a disposition makes it act (the last approver is the actor)."""
    from traveler.qms.services.dispositions import nonconformance_disposition_act

    ncr = _ncr_of(event)
    if ncr is None:
        return
    with _as_actor(event):
        nonconformance_disposition_act(nonconformance=ncr,
                                       reason=f"Approved: approval request #{event.payload['request_id']}")


@subscribe("core.approval.rejected", durable=True)
@subscribe("core.approval.cancelled", durable=True)
def return_rejected_disposition(event: Delivered) -> None:
    """A rejected or cancelled approval returns the nonconformance to in progress, parts still held."""
    from traveler.qms.services.dispositions import nonconformance_disposition_reject

    ncr = _ncr_of(event)
    if ncr is None:
        return
    with _as_actor(event):
        nonconformance_disposition_reject(
            nonconformance=ncr, reason=f"Approval request #{event.payload['request_id']} "
                                       f"{event.name.rsplit('.', 1)[-1]}: {event.payload.get('reason') or ''}".strip())

# CAPA: the outcome of a closure approval acts on the CAPA; overdue CAPAs and tasks tell their owners.

def _capa_of(event: Delivered):
    if event.payload.get("record_type") != "qms.capa" or event.payload.get("template_type") != "capa_closure":
        return None
    from traveler.qms.models import CAPA

    return CAPA.objects.filter(pk=event.payload["record_id"]).first()


@subscribe("core.approval.approved", durable=True)
def close_approved_capa(event: Delivered) -> None:
    """An approved closure closes the CAPA (as the last approver), if it is still pending verification."""
    from traveler.qms.choices import CapaState
    from traveler.qms.services.capa import capa_close

    capa = _capa_of(event)
    if capa is None or capa.state != CapaState.PENDING_VERIFICATION:  # a retried delivery, or moved meanwhile
        return
    with _as_actor(event):
        capa_close(capa=capa, reason=f"Closure approved: approval request #{event.payload['request_id']}")


@subscribe("core.approval.rejected", durable=True)
def reopen_rejected_capa(event: Delivered) -> None:
    """A rejected closure sends the CAPA back to in progress, with the approver's reason."""
    from traveler.qms.choices import CapaState
    from traveler.qms.services.capa import capa_reopen

    capa = _capa_of(event)
    if capa is None or capa.state != CapaState.PENDING_VERIFICATION:
        return
    with _as_actor(event):
        capa_reopen(capa=capa, reason=f"Closure rejected (approval request #{event.payload['request_id']}): "
                                      f"{event.payload.get('reason') or 'no reason given'}")


@subscribe("qms.capa.overdue", durable=True)
def tell_owner_capa_overdue(event: Delivered) -> None:
    from django.urls import reverse

    from traveler.core.models import User
    from traveler.core.services.notifications import notify

    owner = User.objects.filter(pk=event.payload["owner_id"]).first()
    if owner is None:
        return
    p = event.payload
    notify(recipients=[owner], kind="qms.capa.overdue", title=f"CAPA overdue: {p['number']}",
           body=f"{p['number']} was due on {p['due_date']} and is not closed.",
           url=reverse("qms:capa-detail", args=[p["capa_id"]]),
           dedupe_key=f"capa:{p['capa_id']}:overdue:{p['day']}")


@subscribe("qms.capa_task.overdue", durable=True)
def tell_owner_task_overdue(event: Delivered) -> None:
    from django.urls import reverse

    from traveler.core.models import User
    from traveler.core.services.notifications import notify

    owner = User.objects.filter(pk=event.payload["owner_id"]).first()
    if owner is None:
        return
    p = event.payload
    notify(recipients=[owner], kind="qms.capa.overdue", title=f"CAPA task overdue: {p['title']}"[:200],
           body=f"Task “{p['title']}” of {p['number']} was due on {p['due_date']} and is not completed.",
           url=reverse("qms:capa-detail", args=[p["capa_id"]]) + "?tab=tasks",
           dedupe_key=f"capatask:{p['task_id']}:overdue:{p['day']}")


# SPC signals ---------------------------------------------------------------------------------------

@subscribe("spc.signal.raised", durable=True)
def answer_spc_signal(event: Delivered) -> None:
    """Open the nonconformance and/or CAPA a signal's reaction plan asks for, once each however often
    the event is delivered, and say so with ``qms.spc_signal.answered`` (SPC records the links)."""
    from django.db import transaction
    from django.urls import reverse

    from traveler.core.eventbus import publish
    from traveler.core.models import User
    from traveler.core.queue import once
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_lite.models import Part, Step
    from traveler.qms.choices import CapaType, Severity
    from traveler.qms.events import SpcSignalAnswered
    from traveler.qms.services.capa import capa_create
    from traveler.qms.services.nonconformances import GONE, nonconformance_open

    p = event.payload
    if not (p.get("open_nonconformance") or p.get("open_capa")):
        return
    owner = User.objects.filter(pk=p.get("owner_id")).first() if p.get("owner_id") else None
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    severity = p.get("severity") if p.get("severity") in Severity.values else Severity.MAJOR
    title = f"SPC signal #{p['signal_id']} on {p['label']}: {p['rule']}"[:200]
    description = f"{p['description']}. Raised by the control chart: {p.get('url', '')}"
    step = Step.objects.filter(pk=p.get("step_id")).first() if p.get("step_id") else None
    parts = list(Part.objects.filter(pk__in=p.get("part_ids") or []).exclude(status__in=GONE)
                 .filter(archived_at__isnull=True).order_by("pk"))
    links = []
    with tenant_context(current_tenant(), actor=actor), transaction.atomic():
        ncr = None
        if p.get("open_nonconformance") and parts and once(f"qms.spc_signal.ncr:{event.tenant_id}:{p['signal_id']}"):
            ncr = nonconformance_open(title=title, severity=severity, parts=parts,
                                      step_found=step if step and any(x.process_id == step.process_id for x in parts)
                                      else None, owner=owner, description=description,
                                      reason=f"SPC signal #{p['signal_id']}")
            links.append({"kind": "nonconformance", "id": ncr.pk, "label": ncr.number,
                          "url": reverse("qms:quarantinedisposition-detail", args=[ncr.pk])})
        if p.get("open_capa") and owner is not None and once(f"qms.spc_signal.capa:{event.tenant_id}:{p['signal_id']}"):
            capa = capa_create(data={
                "title": title, "capa_type": CapaType.CORRECTIVE, "severity": severity, "owner": owner,
                "problem_statement": description, "parts": parts, "steps": [step] if step else [],
                "nonconformances": [ncr] if ncr else []}, reason=f"SPC signal #{p['signal_id']}")
            links.append({"kind": "capa", "id": capa.pk, "label": capa.number,
                          "url": reverse("qms:capa-detail", args=[capa.pk])})
        if links:
            publish(SpcSignalAnswered(signal_id=p["signal_id"], links=links))


# Step control's requests ---------------------------------------------------------------------------

@subscribe("mes_full.nonconformance.requested", durable=True)
def answer_nonconformance_request(event: Delivered) -> None:
    """Open the nonconformance step control asks for (a failed inspection, first piece, lot or
    calibration): one per request source, however often the event is delivered."""
    from django.db import transaction

    from traveler.core.models import User
    from traveler.core.queue import once
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_lite.models import Part, Step
    from traveler.qms.choices import Severity
    from traveler.qms.services.nonconformances import GONE, nonconformance_open

    p = event.payload
    parts = list(Part.objects.filter(pk__in=p.get("part_ids") or []).exclude(status__in=GONE)
                 .filter(archived_at__isnull=True).order_by("pk"))
    if not parts:
        return
    step = Step.objects.filter(pk=p.get("step_id")).first() if p.get("step_id") else None
    if step is not None and not any(x.process_id == step.process_id for x in parts):
        step = None
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    severity = p.get("severity") if p.get("severity") in Severity.values else Severity.MAJOR
    with tenant_context(current_tenant(), actor=actor), transaction.atomic():
        if once(f"qms.mes_full_request:{event.tenant_id}:{p['source']}:{p['source_id']}"):
            nonconformance_open(title=p["title"][:200], severity=severity, parts=parts, step_found=step,
                                description=p.get("description", ""), reason=f"{p['title']}"[:200])

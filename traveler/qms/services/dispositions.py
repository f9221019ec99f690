"""The disposition of a nonconformance: decided and signed (meaning *dispositioned*), approved where
the rules ask, then carried out on every part.

* **rework**: each part goes back to the chosen step (an earlier step of its route, or where a
  ``rework`` edge points) through ``part_rework``; the attempt is counted from its traveler's log, and
  at its part type's ``max_rework_attempts`` only scrap and use as is remain;
* **repair**: like rework, the part marked repaired and the deviation written on its traveler;
* **scrap**: ``part_scrap``, the NCR number in the reason;
* **use as is**: always through the material review board (a ``material_review`` approval template,
  seeded as two signatures), and a recorded customer concession for every customer whose order a
  part belongs to; the part goes on as if it had conformed (``part_accept``);
* **return to supplier**: supplier, RMA number and shipment recorded; ``part_return``.

Approval before acting: always for a critical nonconformance (``nonconformance_disposition``
template) and for use as is (``material_review``); for major and minor ones when the tenant's
``NonconformanceSettings`` say so. The approval's outcome event makes the disposition act, or returns
the nonconformance to in progress (see ``handlers.py``). Only the disposition lifts the hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import ApprovalTemplate, Company, Document, Role, User
from traveler.core.models.approvals import Flow
from traveler.core.services.approval_templates import approval_template_create
from traveler.core.services.approvals import approval_request_create
from traveler.core.services.records import record_create
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason, current_tenant, tenant_context
from traveler.mes_lite.choices import PART_TRANSITIONS, PartStatus, TransitionAction
from traveler.mes_lite.models import Part, Step
from traveler.mes_lite.services.parts import (
    part_accept,
    part_return,
    part_rework,
    part_rework_attempts,
    part_scrap,
    rework_steps,
)
from traveler.qms.choices import Disposition, DispositionStatus, NcrState, Severity
from traveler.qms.events import NonconformanceDispositioned
from traveler.qms.models import Concession, NonconformancePart, NonconformanceSettings, QuarantineDisposition
from traveler.qms.services.nonconformances import check_transition, locked, set_state

DISPOSITION_TEMPLATE = "nonconformance_disposition"
MRB_TEMPLATE = "material_review"
DEFAULT_TEMPLATES = {
    DISPOSITION_TEMPLATE: {"name": "Nonconformance disposition", "flow": Flow.ANY, "sla_days": 3,
                           "description": "Approval of a nonconformance's disposition before it acts."},
    MRB_TEMPLATE: {"name": "Material review board", "flow": Flow.THRESHOLD, "threshold": 2, "sla_days": 5,
                   "description": "Two signatures of the review board to use a nonconforming part as it is."},
}
SENDS_BACK = (Disposition.REWORK, Disposition.REPAIR)


def nonconformance_templates_seed(tenant) -> dict[str, ApprovalTemplate]:
    """The tenant's default templates for dispositions, created once (administrators change them
    afterwards): any one QA Manager approves a disposition; two QA Managers form the review board."""
    out = {}
    with tenant_context(tenant), transaction.atomic():
        for kind, data in DEFAULT_TEMPLATES.items():
            template = ApprovalTemplate.objects.filter(template_type=kind, archived_at__isnull=True).order_by("pk").first()
            if template is None:
                template = ApprovalTemplate.objects.filter(name=data["name"]).first()
            if template is None:
                template = approval_template_create(data={**data, "template_type": kind},
                                                    approvers=[{"role": Role.objects.get(code="qa_manager")}])
            out[kind] = template
    return out


def approval_needed(ncr: QuarantineDisposition, disposition: str) -> str | None:
    """The template type the disposition must be approved through before it acts, or None."""
    if disposition == Disposition.USE_AS_IS:
        return MRB_TEMPLATE
    if ncr.severity == Severity.CRITICAL:
        return DISPOSITION_TEMPLATE
    settings = NonconformanceSettings.objects.filter().first()
    if settings and ((ncr.severity == Severity.MAJOR and settings.approve_major)
                     or (ncr.severity == Severity.MINOR and settings.approve_minor)):
        return DISPOSITION_TEMPLATE
    return None


def customers_of(ncr: QuarantineDisposition) -> list[Company]:
    """The customers whose orders the nonconformance's parts belong to."""
    ids = (Part.objects.filter(pk__in=ncr.part_links.values("part_id"), order__isnull=False)
           .values_list("order__company_id", flat=True).distinct())
    return list(Company.objects.filter(pk__in=ids).order_by("name"))


def _limit(part: Part) -> int | None:
    return part.part_type.max_rework_attempts


@dataclass
class Plan:
    """What a disposition would do: one line per part, what is refused, and the approval it needs."""

    disposition: str
    consequences: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    approval: str | None = None

    def refuse(self, key: str, text: str) -> None:
        self.problems.setdefault(key, []).append(text)


def _plan_parts(ncr: QuarantineDisposition) -> list[Part]:
    return list(Part.objects.filter(pk__in=ncr.part_links.filter(resolved_at__isnull=True).values("part_id"))
                .select_related("part_type", "current_step", "process", "order__company").order_by("serial_number"))


def disposition_options(*, nonconformance: QuarantineDisposition) -> dict[str, str | None]:
    """For each disposition, why it is not offered (None: it is)."""
    parts = _plan_parts(nonconformance)
    out: dict[str, str | None] = {d: None for d in Disposition.values}
    at_limit = [p.serial_number for p in parts if _limit(p) is not None and part_rework_attempts(part=p) >= _limit(p)]
    for d in SENDS_BACK:
        if at_limit:
            out[d] = (f"Rework limit reached for {', '.join(at_limit[:5])}: only scrap or use as is through the review "
                      "board remain.")
    return out


def disposition_plan(*, nonconformance: QuarantineDisposition, disposition: str, to_step: Step | None = None,
                     supplier: Company | None = None, rma_number: str = "", shipment_reference: str = "") -> Plan:
    """What ``disposition`` would do to the nonconformance's parts, in words ("part INJ-0042 will return
    to step 3 'Grind seat'; rework attempt 2 of 3"), and what stops it."""
    ncr = nonconformance
    if disposition not in Disposition.values:
        plan = Plan(disposition=str(disposition))
        plan.refuse("disposition", f"one of {', '.join(Disposition.values)}")
        return plan
    plan = Plan(disposition=disposition, approval=approval_needed(ncr, disposition))
    parts = _plan_parts(ncr)
    if not parts:
        plan.refuse("parts", "no part is left for this disposition to act on")
    if disposition in SENDS_BACK:
        if not isinstance(to_step, Step):
            plan.refuse("to_step", "say which step the parts go back to")
        for p in parts:
            if p.status not in PART_TRANSITIONS[TransitionAction.REWORK]:
                plan.refuse("parts", f"{p.serial_number} is {p.get_status_display().lower()}: it cannot be sent back")
                continue
            done, limit = part_rework_attempts(part=p), _limit(p)
            if limit is not None and done >= limit:
                plan.refuse("disposition", f"{p.serial_number} was reworked {done} of {limit} times: only scrap or use "
                                           "as is remain")
                continue
            if isinstance(to_step, Step):
                if to_step.pk not in {s.pk for s in rework_steps(part=p)}:
                    plan.refuse("to_step", f"step '{to_step.name}' is not an earlier step of {p.serial_number}'s route "
                                           "nor a rework loop from where it is")
                    continue
                of = f" of {limit}" if limit is not None else ""
                verb = "be repaired at" if disposition == Disposition.REPAIR else "return to"
                plan.consequences.append(f"part {p.serial_number} will {verb} step {to_step.sequence} '{to_step.name}'; "
                                         f"rework attempt {done + 1}{of}")
    elif disposition == Disposition.SCRAP:
        for p in parts:
            if p.status not in PART_TRANSITIONS[TransitionAction.SCRAP]:
                plan.refuse("parts", f"{p.serial_number} is {p.get_status_display().lower()}: it cannot be scrapped")
            else:
                plan.consequences.append(f"part {p.serial_number} will be scrapped ({ncr.number})")
    elif disposition == Disposition.RETURN_TO_SUPPLIER:
        if not isinstance(supplier, Company):
            plan.refuse("supplier", "name the supplier the parts go back to")
        if not (rma_number or "").strip():
            plan.refuse("rma_number", "the supplier's return authorisation (RMA) number is needed")
        if not (shipment_reference or "").strip():
            plan.refuse("shipment_reference", "the shipment's reference is needed")
        for p in parts:
            if p.status not in PART_TRANSITIONS[TransitionAction.RETURN]:
                plan.refuse("parts", f"{p.serial_number} is {p.get_status_display().lower()}: it cannot be returned")
            else:
                to = f" to {supplier.name}" if isinstance(supplier, Company) else ""
                plan.consequences.append(f"part {p.serial_number} will be returned{to} and leave its order's count")
    elif disposition == Disposition.USE_AS_IS:
        granted = set(Concession.objects.filter(nonconformance=ncr, archived_at__isnull=True)
                      .values_list("customer_id", flat=True))
        missing = [c.name for c in customers_of(ncr) if c.pk not in granted]
        if missing:
            plan.refuse("concession", f"a concession of {', '.join(missing)} is needed: the parts belong to their orders")
        for p in parts:
            if p.status in (PartStatus.QUARANTINED, PartStatus.ON_HOLD) and (
                    p.status == PartStatus.QUARANTINED or p.held_from_status == PartStatus.QUARANTINED):
                plan.consequences.append(f"part {p.serial_number} will be accepted as it is and go on past step "
                                         f"'{p.current_step.name if p.current_step else '-'}'")
            else:
                plan.consequences.append(f"part {p.serial_number} will be accepted as it is and released where it is")
    if plan.approval == MRB_TEMPLATE:
        plan.consequences.append("after two signatures of the material review board")
    elif plan.approval:
        plan.consequences.append("after the disposition is approved")
    return plan


def _refuse(plan: Plan) -> None:
    if plan.problems:
        text = "; ".join(t for texts in plan.problems.values() for t in texts)
        raise InvalidInput(f"This disposition cannot be carried out: {text}.", fields=plan.problems)


def nonconformance_disposition(*, nonconformance: QuarantineDisposition, disposition: str, user: User, password: str,
                               note: str = "", to_step: Step | None = None, supplier: Company | None = None,
                               rma_number: str = "", shipment_reference: str = "",
                               version: int | None = None) -> QuarantineDisposition:
    """Decide the disposition and sign it (meaning *dispositioned*, the password re-entered); it acts
    at once, or once its approval is given (see ``approval_needed``)."""
    plan = disposition_plan(nonconformance=nonconformance, disposition=disposition, to_step=to_step, supplier=supplier,
                            rma_number=rma_number, shipment_reference=shipment_reference)
    _refuse(plan)
    check_transition(nonconformance, "decide" if plan.approval else "disposition")
    confirmation = password_confirm(user=user, password=password)  # before the transaction: a failure stays recorded
    with transaction.atomic(), audit_reason(note or None):
        ncr = locked(nonconformance)
        check_transition(ncr, "decide" if plan.approval else "disposition")
        if ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL:
            raise Conflict(f"{ncr}'s disposition already awaits its approval.", fields={"state": ["awaiting approval"]})
        sends_back = disposition in SENDS_BACK
        returns = disposition == Disposition.RETURN_TO_SUPPLIER
        ncr = set_state(ncr, version=version, reason=note or None, state=NcrState.IN_PROGRESS,
                        disposition=disposition, disposition_status=DispositionStatus.AWAITING_APPROVAL,
                        disposition_note=(note or "").strip(), rework_step=to_step if sends_back else None,
                        supplier=supplier if returns else None, rma_number=(rma_number or "").strip() if returns else "",
                        shipment_reference=(shipment_reference or "").strip() if returns else "",
                        decided_by=user, decided_at=timezone.now())
        signature_write(confirmation=confirmation, record=ncr, meaning="dispositioned", comment=note or "")
        if plan.approval:
            template = nonconformance_templates_seed(current_tenant())[plan.approval]
            approval_request_create(record=ncr, template=template, requested_by=user,
                                    notes="; ".join(plan.consequences))
            ncr.refresh_from_db()
            return ncr
        return _act(ncr, reason=f"{ncr.number}: {Disposition(disposition).label.lower()}")


def nonconformance_disposition_act(*, nonconformance: QuarantineDisposition, reason: str) -> QuarantineDisposition:
    """Carry out a disposition whose approval was given."""
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        if ncr.disposition_status != DispositionStatus.AWAITING_APPROVAL:
            raise Conflict(f"{ncr} has no disposition awaiting its approval.", fields={"state": [ncr.state]})
        return _act(ncr, reason=reason)


def nonconformance_disposition_reject(*, nonconformance: QuarantineDisposition, reason: str) -> QuarantineDisposition:
    """The disposition's approval was rejected or cancelled: the nonconformance is in progress again,
    its parts still held, and a new disposition can be decided."""
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        target = check_transition(ncr, "reject")
        if ncr.disposition_status != DispositionStatus.AWAITING_APPROVAL:
            raise Conflict(f"{ncr} has no disposition awaiting its approval.", fields={"state": [ncr.state]})
        return set_state(ncr, reason=reason, state=target, disposition="", disposition_status=DispositionStatus.NONE,
                         rework_step=None, supplier=None, rma_number="", shipment_reference="",
                         disposition_note=f"{ncr.disposition_note}\n[{reason}]".strip())


def _act(ncr: QuarantineDisposition, *, reason: str) -> QuarantineDisposition:
    plan = disposition_plan(nonconformance=ncr, disposition=ncr.disposition, to_step=ncr.rework_step,
                            supplier=ncr.supplier, rma_number=ncr.rma_number, shipment_reference=ncr.shipment_reference)
    _refuse(plan)
    check_transition(ncr, "disposition")
    note = f" {ncr.disposition_note}" if ncr.disposition_note else ""
    links = list(NonconformancePart.objects.select_for_update().filter(nonconformance=ncr, resolved_at__isnull=True)
                 .order_by("pk"))
    parts = {p.pk: p for p in Part.objects.filter(pk__in=[link.part_id for link in links])}
    now = timezone.now()
    outcome = {Disposition.REWORK: "reworked", Disposition.REPAIR: "repaired", Disposition.SCRAP: "scrapped",
               Disposition.USE_AS_IS: "accepted", Disposition.RETURN_TO_SUPPLIER: "returned"}[ncr.disposition]
    # Resolved first: the guard then lets the disposition move the part (and nothing else could before).
    NonconformancePart.objects.filter(pk__in=[link.pk for link in links]).update(
        resolved_at=now, outcome=outcome, repaired=ncr.disposition == Disposition.REPAIR, updated_at=now)
    for link in links:
        part = parts[link.part_id]
        if ncr.disposition == Disposition.REWORK:
            part_rework(part=part, to_step=ncr.rework_step, reason=f"{ncr.number}: rework.{note}")
        elif ncr.disposition == Disposition.REPAIR:
            part_rework(part=part, to_step=ncr.rework_step,
                        reason=f"{ncr.number}: repair; deviation from the route:{note or ' see the nonconformance'}")
        elif ncr.disposition == Disposition.SCRAP:
            part_scrap(part=part, reason=f"{ncr.number}: scrapped.{note}")
        elif ncr.disposition == Disposition.RETURN_TO_SUPPLIER:
            part_return(part=part, reason=f"{ncr.number}: returned to {ncr.supplier.name}, RMA {ncr.rma_number}, "
                                          f"shipment {ncr.shipment_reference}.{note}")
        elif part.status in (PartStatus.QUARANTINED, PartStatus.ON_HOLD):
            part_accept(part=part, reason=f"{ncr.number}: used as is (material review).{note}")
    ncr = set_state(ncr, reason=reason, state=NcrState.DISPOSITIONED, disposition_status=DispositionStatus.DONE,
                    acted_at=now)
    publish(NonconformanceDispositioned(nonconformance_id=ncr.pk, number=ncr.number, disposition=ncr.disposition,
                                        part_ids=sorted(parts)))
    return ncr


def concession_record(*, nonconformance: QuarantineDisposition, customer: Company, granted_by: str, reference: str,
                      granted_on: date, document: Document | None = None,
                      reason: str | None = None) -> Concession:
    """Record a customer's concession to accept the nonconformance's parts of its orders as they are."""
    ncr = nonconformance
    if not isinstance(customer, Company):
        raise InvalidInput("customer: unknown.", fields={"customer": ["unknown"]})
    if customer.pk not in {c.pk for c in customers_of(ncr)}:
        raise InvalidInput(f"None of {ncr}'s parts belongs to an order of {customer.name}.",
                           fields={"customer": ["not a customer of these parts"]})
    for name, value in (("granted_by", granted_by), ("reference", reference)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name}: required.", fields={name: ["required"]})
    if not isinstance(granted_on, date):
        raise InvalidInput("granted_on: a date.", fields={"granted_on": ["a date"]})
    if granted_on > timezone.localdate():
        raise InvalidInput("A concession is not granted in the future.", fields={"granted_on": ["in the future"]})
    if ncr.state not in (NcrState.OPEN, NcrState.IN_PROGRESS):
        raise Conflict(f"{ncr} is {ncr.get_state_display().lower()}: its concessions no longer change.",
                       fields={"state": [ncr.state]})
    return record_create(Concession, data={"nonconformance": ncr, "customer": customer, "granted_by": granted_by.strip(),
                                           "reference": reference.strip(), "granted_on": granted_on,
                                           "document": document}, reason=reason)

"""Nonconformances: open (numbered NCR-YYYY-NNNN, parts held), start, verify, close, cancel. The
disposition (decide, sign, approve, act) is in ``dispositions.py``.

Each transition is one service and follows ``NCR_TRANSITIONS`` (``choices.py``). A part under a
nonconformance that is not closed or cancelled, and that its disposition has not yet acted on, can
neither advance (nor complete) nor be released from hold, reworked or accepted: the guard
``part_ncr_refusal`` is registered on ``"mes.part.advance"`` and ``"mes.part.release"``. Only the
disposition lets such a part go (or scraps or returns it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import User
from traveler.core.services.approval_templates import check_active_member
from traveler.core.services.numbering import number_next
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part, Step, WorkOrder
from traveler.mes_lite.services.orders import unfinished_parts_of
from traveler.mes_lite.services.parts import part_hold, part_release
from traveler.qms.choices import NCR_ACTIVE, NCR_TRANSITIONS, DispositionStatus, NcrState, Severity
from traveler.qms.events import NonconformanceCancelled, NonconformanceClosed, NonconformanceOpened
from traveler.qms.models import NonconformancePart, NonconformanceReport, QualityReport, QuarantineDisposition

NUMBER_KEY = "qms.nonconformance"
MAX_PARTS = 5_000
GONE = (PartStatus.SCRAPPED, PartStatus.RETURNED)


def check_transition(ncr: QuarantineDisposition, name: str) -> str:
    """The state ``name`` leads ``ncr`` to, or Conflict naming the state it is in."""
    sources, target = NCR_TRANSITIONS[name]
    if ncr.state not in sources:
        allowed = ", ".join(sorted(NcrState(s).label.lower() for s in sources))
        raise Conflict(f"{ncr} is {ncr.get_state_display().lower()}: it can be {name.replace('_', ' ')}ed only when "
                       f"{allowed}.", fields={"state": [ncr.state]})
    return target


def locked(ncr: QuarantineDisposition) -> QuarantineDisposition:
    row = QuarantineDisposition.objects.select_for_update().filter(pk=ncr.pk).first()
    if row is None:
        raise InvalidInput("No such nonconformance.", fields={"nonconformance": ["unknown"]})
    return row


def set_state(ncr: QuarantineDisposition, *, version: int | None = None, reason: str | None = None,
              **fields: Any) -> QuarantineDisposition:
    """Write ``fields`` on a locked nonconformance (its version checked when given)."""
    return record_update(ncr, version=ncr.version if version is None else version, data=fields, reason=reason)


def _parts(parts: Any, work_order: Any, reports: list[QualityReport]) -> list[Part]:
    if parts is not None and not isinstance(parts, (list, tuple)):
        raise InvalidInput("parts must be a list.", fields={"parts": ["must be a list"]})
    chosen: dict[int, Part] = {p.pk: p for p in (parts or [])}
    if work_order is not None:
        if not isinstance(work_order, WorkOrder):
            raise InvalidInput("work_order: unknown.", fields={"work_order": ["unknown"]})
        for p in unfinished_parts_of(work_order).order_by("pk"):
            chosen.setdefault(p.pk, p)
        if not chosen:
            raise InvalidInput(f"Work order {work_order} has no open parts.", fields={"work_order": ["no open parts"]})
    for r in reports:
        chosen.setdefault(r.part_id, r.part)
    if not chosen:
        raise InvalidInput("Name the nonconforming parts (parts, a work order, or quality reports).",
                           fields={"parts": ["required"]})
    if len(chosen) > MAX_PARTS:
        raise InvalidInput(f"At most {MAX_PARTS} parts per nonconformance.", fields={"parts": [f"at most {MAX_PARTS}"]})
    found = list(chosen.values())
    gone = [p.serial_number for p in found if p.archived_at is not None or p.status in GONE]
    if gone:
        raise InvalidInput(f"Scrapped, returned or archived: {', '.join(gone[:10])}.", fields={"parts": ["not in production"]})
    return found


def _reports(reports: Any) -> list[QualityReport]:
    if reports is None:
        return []
    if not isinstance(reports, (list, tuple)) or not all(isinstance(r, QualityReport) for r in reports):
        raise InvalidInput("reports must be a list of quality reports.", fields={"reports": ["list of reports"]})
    archived = [str(r.pk) for r in reports if r.archived_at is not None]
    if archived:
        raise InvalidInput(f"Archived quality report(s): {', '.join(archived)}.", fields={"reports": ["archived"]})
    return list({r.pk: r for r in reports}.values())


def _check_fields(*, title: Any, severity: Any, owner: Any, due_date: Any, step_found: Any, parts: list[Part]) -> None:
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("Give the nonconformance a title.", fields={"title": ["required"]})
    if len(title) > 200:
        raise InvalidInput("The title has at most 200 characters.", fields={"title": ["at most 200 characters"]})
    if severity not in Severity.values:
        raise InvalidInput(f"severity: one of {', '.join(Severity.values)}.", fields={"severity": ["invalid choice"]})
    if owner is not None:
        if not isinstance(owner, User):
            raise InvalidInput("owner: unknown.", fields={"owner": ["unknown"]})
        check_active_member(owner, "owner")
    if due_date is not None and not isinstance(due_date, date):
        raise InvalidInput("due_date: a date.", fields={"due_date": ["a date"]})
    if step_found is not None:
        if not isinstance(step_found, Step):
            raise InvalidInput("step_found: unknown.", fields={"step_found": ["unknown"]})
        if not any(p.process_id == step_found.process_id for p in parts):
            raise InvalidInput(f"Step '{step_found.name}' is not on the route of these parts.",
                               fields={"step_found": ["not on the route"]})


def nonconformance_open(*, title: str, severity: str = Severity.MAJOR, parts: list[Part] | None = None,
                        work_order: WorkOrder | None = None, reports: list[QualityReport] | None = None,
                        step_found: Step | None = None, owner: User | None = None, due_date: date | None = None,
                        description: str = "", reason: str | None = None) -> QuarantineDisposition:
    """Open a nonconformance on ``parts`` (and/or every open part of ``work_order``, and the parts of
    ``reports``) and hold them: containment. Its number, NCR-YYYY-NNNN, is gap-free per tenant and year."""
    found_reports = _reports(reports)
    found = _parts(parts, work_order, found_reports)
    if step_found is None and found_reports:
        step_found = found_reports[0].step
    _check_fields(title=title, severity=severity, owner=owner, due_date=due_date, step_found=step_found, parts=found)
    ids = {p.pk for p in found}
    strays = [str(r.pk) for r in found_reports if r.part_id not in ids]
    if strays:
        raise InvalidInput(f"Quality report(s) {', '.join(strays)} are about other parts.", fields={"reports": ["other parts"]})
    tenant = current_tenant()
    with transaction.atomic(), audit_reason(reason):
        year = timezone.localdate().year
        # Callers of the counter wait for each other until commit (see number_next); everything is
        # checked before it is taken.
        number = f"NCR-{year}-{number_next(key=NUMBER_KEY, year=year):04d}"
        ncr = record_create(QuarantineDisposition, data={
            "number": number, "title": title.strip(), "description": description or "", "severity": severity,
            "step_found": step_found, "owner": owner, "due_date": due_date}, reason=reason)
        NonconformancePart.objects.bulk_create([NonconformancePart(tenant=tenant, nonconformance=ncr, part=p)
                                                for p in found])
        NonconformanceReport.objects.bulk_create([NonconformanceReport(tenant=tenant, nonconformance=ncr, report=r)
                                                  for r in found_reports])
        for p in sorted(found, key=lambda p: p.pk):
            if p.status in (PartStatus.PENDING, PartStatus.IN_PROCESS, PartStatus.QUARANTINED):
                part_hold(part=p, reason=f"Nonconformance: {title.strip()}")
        publish(NonconformanceOpened(nonconformance_id=ncr.pk, number=number, severity=severity,
                                     part_ids=sorted(ids)))
    return ncr


def nonconformance_update(*, nonconformance: QuarantineDisposition, version: int | None, data: dict[str, Any],
                          reason: str | None = None) -> QuarantineDisposition:
    """Change the title, description, severity, step found, owner or due date of a nonconformance not
    yet dispositioned."""
    ncr = nonconformance
    allowed = {"title", "description", "severity", "step_found", "owner", "due_date"}
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(f"Not changed here: {', '.join(sorted(unknown))} (the transitions change them).",
                           fields={k: ["not changeable"] for k in sorted(unknown)})
    if ncr.state not in (NcrState.OPEN, NcrState.IN_PROGRESS):
        raise Conflict(f"{ncr} is {ncr.get_state_display().lower()}: it no longer changes.", fields={"state": [ncr.state]})
    if ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL:
        raise Conflict(f"{ncr}'s disposition awaits its approval: it does not change meanwhile.",
                       fields={"state": ["awaiting approval"]})
    merged = {"title": ncr.title, "severity": ncr.severity, "owner": ncr.owner, "due_date": ncr.due_date,
              "step_found": ncr.step_found, **data}
    parts = list(Part.objects.filter(pk__in=ncr.part_links.values("part_id")))
    _check_fields(parts=parts, **{k: merged[k] for k in ("title", "severity", "owner", "due_date", "step_found")})
    if "title" in data:
        data = {**data, "title": data["title"].strip()}
    if "description" in data:
        data = {**data, "description": data["description"] or ""}
    return record_update(ncr, version=version, data=data, reason=reason)


def nonconformance_start(*, nonconformance: QuarantineDisposition, reason: str | None = None,
                         version: int | None = None) -> QuarantineDisposition:
    """Work on the nonconformance has begun (investigation, disposition being prepared)."""
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        target = check_transition(ncr, "start")
        return set_state(ncr, version=version, reason=reason, state=target)


def nonconformance_verify(*, nonconformance: QuarantineDisposition, note: str, reason: str | None = None,
                          version: int | None = None) -> QuarantineDisposition:
    """Record the verification that the disposition was carried out as decided (who, when, note)."""
    if not isinstance(note, str) or not note.strip():
        raise InvalidInput("Say how the disposition was verified.", fields={"note": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        if ncr.state != NcrState.DISPOSITIONED or ncr.disposition_status != DispositionStatus.DONE:
            raise Conflict(f"{ncr} has no disposition carried out to verify.", fields={"state": [ncr.state]})
        return set_state(ncr, version=version, reason=reason, verified_by=current_actor(), verified_at=timezone.now(),
                         verification_note=note.strip())


def nonconformance_close(*, nonconformance: QuarantineDisposition, reason: str | None = None,
                         version: int | None = None) -> QuarantineDisposition:
    """Close a nonconformance whose disposition is done and verified."""
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        target = check_transition(ncr, "close")
        if ncr.verified_at is None:
            raise Conflict(f"{ncr}: record the verification of its disposition before closing it.",
                           fields={"verification": ["required"]})
        ncr = set_state(ncr, version=version, reason=reason, state=target, closed_at=timezone.now())
        publish(NonconformanceClosed(nonconformance_id=ncr.pk, number=ncr.number, disposition=ncr.disposition))
    return ncr


def nonconformance_cancel(*, nonconformance: QuarantineDisposition, reason: str | None,
                          version: int | None = None) -> QuarantineDisposition:
    """Cancel a nonconformance opened in error: its parts are released from the hold it put on them."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Give the reason for the cancellation.", fields={"reason": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        ncr = locked(nonconformance)
        target = check_transition(ncr, "cancel")
        if ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL:
            raise Conflict(f"{ncr}'s disposition awaits its approval: cancel the approval request first.",
                           fields={"state": ["awaiting approval"]})
        ncr = set_state(ncr, version=version, reason=reason, state=target, state_reason=reason.strip())
        release_parts(ncr, reason=f"{ncr.number} cancelled: {reason.strip()}")
        publish(NonconformanceCancelled(nonconformance_id=ncr.pk, number=ncr.number, reason=reason.strip()))
    return ncr


def release_parts(ncr: QuarantineDisposition, *, reason: str, outcome: str = "") -> list[Part]:
    """Mark the nonconformance's unresolved parts resolved, then release those it holds and no other
    nonconformance still contains."""
    links = list(NonconformancePart.objects.select_for_update().filter(nonconformance=ncr, resolved_at__isnull=True))
    now = timezone.now()
    NonconformancePart.objects.filter(pk__in=[link.pk for link in links]).update(
        resolved_at=now, outcome=outcome, updated_at=now)
    released = []
    for part in Part.objects.filter(pk__in=[link.part_id for link in links]).order_by("pk"):
        if part.status == PartStatus.ON_HOLD and not parts_contained([part]):
            released.append(part_release(part=part, reason=reason))
    return released


def parts_contained(parts: list[Part]) -> dict[int, str]:
    """The parts among ``parts`` under a nonconformance that still contains them: part id -> number."""
    ids = [p.pk for p in parts]
    if not ids:
        return {}
    rows = (NonconformancePart.objects.filter(part_id__in=ids, resolved_at__isnull=True,
                                              nonconformance__state__in=NCR_ACTIVE)
            .order_by("nonconformance_id").values_list("part_id", "nonconformance__number"))
    out: dict[int, str] = {}
    for part_id, number in rows:
        out.setdefault(part_id, number)
    return out


def part_ncr_refusal(*, parts: list[Part], **_: Any) -> str | None:
    """The guard on ``mes.part.advance`` and ``mes.part.release``."""
    contained = parts_contained(parts)
    if not contained:
        return None
    serial = {p.pk: p.serial_number for p in parts}
    named = [f"{serial[pid]} ({number})" for pid, number in list(contained.items())[:5]]
    more = f" and {len(contained) - 5} more" if len(contained) > 5 else ""
    return (f"Under nonconformance: {', '.join(named)}{more}. Leave the part(s) aside; quality decides "
            "what happens to them, and only that disposition lets them go on.")


# Reads -------------------------------------------------------------------------------------------

def nonconformances_visible(queryset, access):
    """The nonconformances of ``queryset`` this user may see: internal roles and the auditor all of
    them; a customer's user those with a part of one of its company's orders (and, in what they are
    shown, only those parts); anyone else none."""
    if access.is_customer:
        if access.company_id is None:
            return queryset.none()
        mine = NonconformancePart.objects.filter(part__order__company_id=access.company_id).values("nonconformance_id")
        return queryset.filter(pk__in=mine)
    if access.role_type is None:
        return queryset.none()
    return queryset


def concessions_visible(queryset, access):
    """Concessions this user may see: a customer's user only its own company's."""
    if access.is_customer:
        return queryset.filter(customer_id=access.company_id) if access.company_id else queryset.none()
    if access.role_type is None:
        return queryset.none()
    return queryset

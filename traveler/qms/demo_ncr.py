"""Nonconformance demo data: in every demo tenant, NCRs on the MES demo's quarantined parts in every
state: open, in progress, one reworked and closed, one scrapped, one used as is with the customer's
concession and the review board's two signatures, one cancelled. Idempotent: a tenant that has
nonconformances already is left as it is."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from traveler.core.demo import DEMO_PASSWORD, demo_loader
from traveler.core.models import ApprovalRequest, Tenant, User
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.qms.choices import DispositionStatus
from traveler.qms.models import QuarantineDisposition
from traveler.qms.services.dispositions import (
    concession_record,
    customers_of,
    nonconformance_disposition,
    nonconformance_disposition_act,
)
from traveler.qms.services.nonconformances import (
    nonconformance_cancel,
    nonconformance_close,
    nonconformance_open,
    nonconformance_start,
    nonconformance_verify,
)


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


@demo_loader
def load_ncr_demo(tenant: Tenant) -> None:
    if QuarantineDisposition.objects.exists():
        return
    qa, inspector = _user(tenant, "qa_manager"), _user(tenant, "qa_inspector")
    if qa is None or inspector is None:
        return
    # The quarantined parts first (out of specification: what NCRs are about), then parts in process.
    parts = list(Part.objects.filter(status=PartStatus.QUARANTINED, archived_at__isnull=True).order_by("pk")[:6])
    parts += list(Part.objects.filter(status=PartStatus.IN_PROCESS, archived_at__isnull=True)
                  .order_by("pk")[:6 - len(parts)])
    if len(parts) < 6:
        return
    due = timezone.localdate() + timedelta(days=14)

    def open_on(part, title, severity="major", by=inspector):
        with tenant_context(tenant, actor=by):
            return nonconformance_open(title=title, severity=severity, parts=[part], step_found=part.current_step,
                                       owner=qa, due_date=due, description=part.status_reason)

    def decide(ncr, by, **kw):
        with tenant_context(tenant, actor=by):
            return nonconformance_disposition(nonconformance=ncr, user=by, password=DEMO_PASSWORD, **kw)

    open_on(parts[0], "Bore diameter over the upper limit", "minor")
    started = open_on(parts[1], "Leak rate over limit after honing")
    with tenant_context(tenant, actor=qa):
        nonconformance_start(nonconformance=started, reason="Investigating the honing tool")

    reworked = open_on(parts[2], "Seat roughness out of specification")
    with tenant_context(tenant, actor=qa):
        first = route_steps(parts[2].process)[0]
    reworked = decide(reworked, qa, disposition="rework", to_step=first, note="Regrind and measure again")
    with tenant_context(tenant, actor=qa):
        reworked = nonconformance_verify(nonconformance=reworked, note="Re-measured after regrinding: in spec")
        nonconformance_close(nonconformance=reworked, reason="Rework verified")

    decide(open_on(parts[3], "Crack found at the nozzle seat", "critical", by=qa), inspector,
           disposition="scrap", note="Crack is not repairable")
    # A critical disposition waits for its approval: the QA manager approves it.
    _approve_pending(tenant, [qa])

    accepted = open_on(parts[4], "Body length 0.02 mm over, functionally acceptable")
    with tenant_context(tenant, actor=qa):
        for customer in customers_of(accepted):
            concession_record(nonconformance=accepted, customer=customer, granted_by="Customer quality engineer",
                              reference=f"CONC-{accepted.number[-4:]}", granted_on=timezone.localdate())
    decide(accepted, inspector, disposition="use_as_is", note="No effect on fit or function")
    board = [u for u in (qa, User.objects.filter(full_name="Dana Quality Lead").first()) if u is not None]
    _approve_pending(tenant, board)

    cancelled = open_on(parts[5], "Suspected wrong bar stock")
    with tenant_context(tenant, actor=qa):
        nonconformance_cancel(nonconformance=cancelled, reason="Material certificate checked: correct bar stock")


def _approve_pending(tenant: Tenant, approvers: list[User]) -> None:
    """Each approver approves the pending requests on nonconformances waiting for them; a disposition
    whose approval is complete acts (what the outcome handler does in the worker)."""
    for ncr in QuarantineDisposition.objects.filter(disposition_status=DispositionStatus.AWAITING_APPROVAL):
        for user in approvers:
            req = ApprovalRequest.objects.filter(record_id=str(ncr.pk), status="pending").first()
            if req is None or not req.approvers.filter(user=user).exists():
                continue
            with tenant_context(tenant, actor=user):
                approval_respond(request=req, user=user, password=DEMO_PASSWORD, decision="approved",
                                 comment="Review board")
        if ApprovalRequest.objects.filter(record_id=str(ncr.pk), status="approved").exists():
            with tenant_context(tenant, actor=approvers[-1]):
                nonconformance_disposition_act(nonconformance=ncr, reason="Approved by the review board")

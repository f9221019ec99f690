"""The CAPA report in the 8D layout: D1 team, D2 problem, D3 containment, D4 root cause, D5 corrective
action, D6 verification, D7 prevention, D8 closure; every signature (task completions, verifications,
closure approvals) manifested as on screen (``core.pdf.signature_block``)."""

from __future__ import annotations

from traveler.core.models import ApprovalRequest
from traveler.core.pdf import RecordPdf, signature_block
from traveler.core.services.signatures import format_signed_at, manifestations
from traveler.qms.choices import TaskKind
from traveler.qms.models import CAPA, CapaTask, RcaRecord


def _day(value) -> str:
    return value.isoformat() if value else "-"


def _tasks(pdf: RecordPdf, tasks: list[CapaTask], kind: str) -> None:
    mine = [t for t in tasks if t.kind == kind]
    if not mine:
        pdf.line_text("No task of this kind.")
        return
    for t in mine:
        done = f"completed {format_signed_at(t.completed_at)}" if t.completed_at else "open"
        pdf.line_text(f"{t.title} - owner {t.owner.full_name or t.owner.email}, due {_day(t.due_date)}, {done}",
                      size=10, bold=True)
        if t.description:
            pdf.line_text(t.description)
        sigs = [m for link in t.assignee_links.all() for m in manifestations(link)]
        if sigs:
            signature_block(pdf, sigs, title="Completions (electronic signatures)")
        else:
            pdf.line_text("Assignees: " + ", ".join(a.user.full_name or a.user.email for a in t.assignee_links.all()),
                          size=8)
        pdf.ln(1)


def capa_8d_pdf(*, capa: CAPA, tenant: str, printed_by: str) -> bytes:
    tasks = list(CapaTask.objects.filter(capa=capa).select_related("owner").prefetch_related("assignee_links__user")
                 .order_by("pk"))
    rca = RcaRecord.objects.filter(capa=capa).first()
    verifications = list(capa.verifications.select_related("verified_by").order_by("pk"))
    pdf = RecordPdf(title=f"{capa.number} 8D report", tenant=tenant, printed_by=printed_by)
    pdf.heading(f"{capa.number}: {capa.title}")
    pdf.fields([("Type", capa.get_capa_type_display()), ("Severity", capa.get_severity_display()),
                ("State", capa.get_state_display()), ("Due", _day(capa.due_date)),
                ("Opened", format_signed_at(capa.created_at))])

    pdf.heading("D1 Team", 12)
    team = {capa.owner_id: (capa.owner, "owner")}
    for t in tasks:
        team.setdefault(t.owner_id, (t.owner, "task owner"))
        for a in t.assignee_links.all():
            team.setdefault(a.user_id, (a.user, "assignee"))
    for v in verifications:
        team.setdefault(v.verified_by_id, (v.verified_by, "verifier"))
    approvals = list(ApprovalRequest.objects.filter(record_type__app_label="qms", record_type__model="capa",
                                                    record_id=str(capa.pk)).prefetch_related("responses__user")
                     .order_by("pk"))
    for req in approvals:
        for response in req.responses.all():
            team.setdefault(response.user_id, (response.user, "approver"))
    for user, role in team.values():
        pdf.line_text(f"{user.full_name or user.email} ({role})")

    pdf.heading("D2 Problem", 12)
    pdf.line_text(capa.problem_statement)
    links = [("Nonconformances", list(capa.nonconformances.all())),
             ("Quality reports", list(capa.quality_reports.all())), ("Parts", list(capa.parts.all())),
             ("Work orders", list(capa.work_orders.all())), ("Steps", list(capa.steps.all()))]
    pdf.fields([(label, ", ".join(str(i) for i in items)) for label, items in links if items])

    pdf.heading("D3 Containment", 12)
    pdf.fields([("Immediate action", capa.immediate_action)])
    _tasks(pdf, tasks, TaskKind.CONTAINMENT)

    pdf.heading("D4 Root cause", 12)
    if rca is None:
        pdf.line_text("No root-cause analysis recorded.")
    else:
        pdf.fields([("Method", rca.get_method_display()), ("Summary", rca.summary)])
        for w in rca.whys.all():
            pdf.line_text(f"Why {w.position}: {w.question} - {w.answer}")
        for c in rca.causes.all():
            pdf.line_text(f"{c.get_category_display()}: {c.description}")
        for r in rca.root_causes.all():
            pdf.line_text(f"{'PRIMARY ' if r.is_primary else ''}root cause: {r.description}", bold=r.is_primary)

    pdf.heading("D5 Corrective action", 12)
    _tasks(pdf, tasks, TaskKind.CORRECTIVE)

    pdf.heading("D6 Verification of effectiveness", 12)
    if not verifications:
        pdf.line_text("Not verified.")
    for v in verifications:
        pdf.line_text(f"{v.get_outcome_display()} - {v.method}", size=10, bold=True)
        if v.notes:
            pdf.line_text(v.notes)
        signature_block(pdf, manifestations(v), title="Verifier's signature")

    pdf.heading("D7 Prevention", 12)
    _tasks(pdf, tasks, TaskKind.PREVENTIVE)

    pdf.heading("D8 Closure", 12)
    closure = [("State", capa.get_state_display()),
               ("Closed", format_signed_at(capa.closed_at) if capa.closed_at else None)]
    if capa.cancel_reason:
        closure.append(("Cancelled because", capa.cancel_reason))
    pdf.fields(closure)
    for req in approvals:
        pdf.line_text(f"Approval request #{req.pk} ({req.template_type}): {req.get_status_display()}"
                      f"{f' - {req.outcome_reason}' if req.outcome_reason else ''}")
    signature_block(pdf, manifestations(capa), title="Closure approvals (electronic signatures)")
    pdf.alias_nb_pages()
    return pdf.output_bytes()

"""The nonconformance report (PDF): what was found, on which parts, the disposition and what it did,
its verification and closure, with every signature manifested (21 CFR 11.50(b))."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from traveler.core.pdf import RecordPdf, signature_block
from traveler.core.services.signatures import format_signed_at, manifestations
from traveler.core.ui.generic import ShellView
from traveler.qms.models import Concession, NonconformancePart, QualityReport, QuarantineDisposition


def nonconformance_report_pdf(*, ncr: QuarantineDisposition, tenant: str, printed_by: str) -> bytes:
    pdf = RecordPdf(title=f"Nonconformance report {ncr.number}", tenant=tenant, printed_by=printed_by)
    pdf.heading(f"Nonconformance report {ncr.number}")
    pdf.line_text(ncr.title, size=11, bold=True)
    pdf.ln(2)
    pdf.fields([
        ("State", ncr.get_state_display()), ("Severity", ncr.get_severity_display()),
        ("Opened", format_signed_at(ncr.created_at)), ("Owner", ncr.owner.full_name if ncr.owner else None),
        ("Due date", ncr.due_date.isoformat() if ncr.due_date else None),
        ("Found at step", ncr.step_found.name if ncr.step_found else None), ("Description", ncr.description),
        ("Cancelled because", ncr.state_reason or None),
    ])
    pdf.ln(2)
    pdf.heading("Parts", 12)
    for link in NonconformancePart.objects.filter(nonconformance=ncr).select_related(
            "part__part_type", "part__current_step", "part__order__company").order_by("pk"):
        p = link.part
        customer = f", order {p.order.number} ({p.order.company.name})" if p.order_id else ""
        pdf.line_text(f"{p.serial_number} - {p.part_type.part_number}{customer}: now {p.get_status_display().lower()}"
                      f"{' at ' + p.current_step.name if p.current_step_id else ''}; "
                      f"{link.outcome or 'contained'}{' (repaired)' if link.repaired else ''}")
    reports = list(QualityReport.objects.filter(pk__in=ncr.report_links.values("report_id")).select_related("step"))
    if reports:
        pdf.ln(2)
        pdf.heading("Quality reports", 12)
        for r in reports:
            pdf.line_text(f"Report {r.pk} at '{r.step.name}': {r.get_status_display()} - {r.description}")
    pdf.ln(2)
    pdf.heading("Disposition", 12)
    pdf.fields([
        ("Disposition", ncr.get_disposition_display() or "Not decided"),
        ("Status", ncr.get_disposition_status_display() if ncr.disposition else None),
        ("Back to step", ncr.rework_step.name if ncr.rework_step_id else None),
        ("Supplier", ncr.supplier.name if ncr.supplier_id else None), ("RMA number", ncr.rma_number or None),
        ("Shipment", ncr.shipment_reference or None), ("Note", ncr.disposition_note),
        ("Decided", f"{ncr.decided_by.full_name}, {format_signed_at(ncr.decided_at)}" if ncr.decided_at else None),
        ("Carried out", format_signed_at(ncr.acted_at) if ncr.acted_at else None),
    ])
    concessions = list(Concession.objects.filter(nonconformance=ncr).select_related("customer"))
    if concessions:
        pdf.ln(2)
        pdf.heading("Customer concessions", 12)
        for c in concessions:
            pdf.line_text(f"{c.customer.name}: {c.reference}, granted by {c.granted_by} on {c.granted_on.isoformat()}")
    pdf.ln(2)
    pdf.heading("Verification and closure", 12)
    pdf.fields([
        ("Verified", f"{ncr.verified_by.full_name}, {format_signed_at(ncr.verified_at)}" if ncr.verified_at else None),
        ("Verification", ncr.verification_note), ("Closed", format_signed_at(ncr.closed_at) if ncr.closed_at else None),
    ])
    signature_block(pdf, manifestations(ncr))
    pdf.alias_nb_pages()
    return pdf.output_bytes()


class NcrPdf(ShellView):
    permission = "qms.view_quarantinedisposition"

    def get(self, request, pk):
        from traveler.qms.services.nonconformances import nonconformances_visible

        if request.access.is_customer:  # the internal report names employees and notes
            from django.http import Http404

            raise Http404
        ncr = get_object_or_404(nonconformances_visible(QuarantineDisposition.objects.all(), request.access)
                                .select_related("owner", "step_found", "rework_step", "supplier", "decided_by",
                                                "verified_by"), pk=pk)
        body = nonconformance_report_pdf(ncr=ncr, tenant=request.tenant.name, printed_by=request.user.full_name)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{ncr.number}.pdf"'
        return response

"""Printed records: a PDF that carries the signature manifestation (21 CFR 11.50(b)) of every
signature, like the screen does. Modules build their own PDFs with ``RecordPdf`` and
``signature_block`` so every printed record shows signatures the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

# DejaVu (Debian's fonts-dejavu-core) prints every name as typed; without it the PDF falls back to
# Helvetica, which only has Latin-1, and other characters print as "?".
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class RecordPdf(FPDF):
    """A4 portrait with a heading line and a footer naming the page and when it was printed."""

    def __init__(self, *, title: str, tenant: str, printed_by: str):
        super().__init__(orientation="P", format="A4")
        self.record_title, self.tenant_name, self.printed_by = title, tenant, printed_by
        self.printed_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        regular, bold = _FONT_DIR / "DejaVuSans.ttf", _FONT_DIR / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            self.add_font("body", "", str(regular))
            self.add_font("body", "B", str(bold))
            self.family, self.unicode = "body", True
        else:
            self.family, self.unicode = "helvetica", False
        self.set_title(title)
        self.set_creator("Traveler")
        self.set_auto_page_break(auto=True, margin=16)
        self.add_page()

    def text_of(self, value) -> str:
        text = "" if value is None else str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, size=7)
        self.cell(0, 5, self.text_of(f"{self.tenant_name} · {self.record_title} · printed {self.printed_at} by "
                                     f"{self.printed_by} · page {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(1)

    def line_text(self, text: str, size: int = 9, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def fields(self, rows: list[tuple[str, object]]) -> None:
        for label, value in rows:
            self.set_font(self.family, "B", 9)
            self.cell(50, 5, self.text_of(label))
            self.set_font(self.family, "", 9)
            self.multi_cell(0, 5, self.text_of(value if value not in (None, "") else "-"), new_x="LMARGIN", new_y="NEXT",
                            align="L")

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def pdf_sections(pdf: RecordPdf, target: str, obj, *, access, tenant) -> None:
    """Write the sections other modules registered for ``target`` (``add_pdf_section``) that this user
    may see and whose module the tenant has switched on; a module with nothing to print writes nothing."""
    from traveler.core.registry import registry
    from traveler.core.services.tenants import enabled_modules

    on = enabled_modules(tenant)
    for section in registry.pdf_sections.get(target, ()):
        if section.module in on and (section.permission is None or access.has(section.permission)):
            section.render(pdf, obj)


def signature_block(pdf: RecordPdf, signatures: list[dict], *, title: str = "Electronic signatures") -> None:
    """Each signature's manifestation: printed name, date and time with time zone, meaning, the
    record version signed (and whether it changed since), and the content's SHA-256."""
    pdf.ln(3)
    pdf.heading(title, 12)
    if not signatures:
        pdf.line_text("Not signed.")
        return
    for s in signatures:
        pdf.line_text(f"{s['printed_name']} - {s['meaning_label']} - {s['signed_at']}", size=10, bold=True)
        note = s["version_note"]
        pdf.line_text(f"{note[:1].upper()}{note[1:]}. SHA-256 {s['content_hash']}", size=8)
        if s.get("comment"):
            pdf.line_text(f"Comment: {s['comment']}", size=8)
        pdf.ln(1.5)


def approval_record_pdf(*, req, state, current_version: int | None, tenant: str, printed_by: str) -> bytes:
    """The approval record of one request: what was approved, the rules, every response with its
    signature manifestation, and the outcome."""
    from traveler.core.services.signatures import format_signed_at, manifestation

    pdf = RecordPdf(title=f"Approval record #{req.pk}", tenant=tenant, printed_by=printed_by)
    pdf.heading(f"Approval record #{req.pk}: {req.record_label}")
    pdf.fields([
        ("Record", f"{req.record_label} ({req.record_type.app_label}.{req.record_type.model} #{req.record_id})"),
        ("Version requested", req.record_version),
        ("Version now", current_version),
        ("Template", f"{req.template.name} ({req.template_type})"),
        ("Rule", f"{req.get_flow_display()}{f' ({req.threshold})' if req.flow == 'threshold' else ''}, "
                 f"{req.get_order_display().lower()}"),
        ("Requested by", f"{req.requested_by.full_name}, {format_signed_at(req.created_at)}"),
        ("Due", format_signed_at(req.due_at) if req.due_at else None),
        ("Status", req.get_status_display()),
        ("Completed", format_signed_at(req.completed_at) if req.completed_at else None),
        ("Outcome", req.outcome_reason),
        ("Notes", req.notes),
    ])
    pdf.ln(2)
    pdf.heading("Approvers", 12)
    for p in state.places:
        r = state.responses.get(p.pk)
        pdf.line_text(f"{p.user.full_name} - {'required' if p.required else 'optional'}, turn {p.position}"
                      f"{' (delegate)' if p.delegated_from_id else ''}: "
                      f"{r.get_decision_display() if r else 'no response'}")
    sigs = []
    for r in sorted(state.responses.values(), key=lambda r: r.pk):
        m = manifestation(r.signature, current_version)
        if r.self_approval:
            m = {**m, "comment": f"{m['comment']} (self-approval: {r.self_approval_justification})".strip()}
        sigs.append(m)
    signature_block(pdf, sigs, title="Responses (electronic signatures)")
    pdf.alias_nb_pages()
    return pdf.output_bytes()


def document_cover_pdf(*, document, revisions: list[dict], tenant: str, printed_by: str) -> bytes:
    """A document's cover sheet: its identity, classification, the released revision and its file's
    SHA-256, the revision history, and every revision's signatures."""
    from traveler.core.services.signatures import format_signed_at

    pdf = RecordPdf(title=f"{document.number} cover sheet", tenant=tenant, printed_by=printed_by)
    if document.is_export_controlled:
        pdf.line_text(f"{document.get_classification_display().upper()}: share only with export-cleared persons.",
                      size=10, bold=True)
        pdf.ln(1)
    pdf.heading(f"{document.number}  {document.title}")
    released = document.released_revision
    pdf.fields([
        ("Type", document.document_type.name),
        ("Classification", document.get_classification_display()),
        ("Owner", document.owner.full_name),
        ("Released revision", f"{released.label}, {format_signed_at(released.released_at)}" if released else "none"),
        ("File", f"{released.original_name} ({released.media_type}, {released.size} bytes)" if released else None),
        ("SHA-256", released.sha256 if released else None),
        ("Review due", document.review_due_at.date().isoformat() if document.review_due_at else None),
    ])
    pdf.ln(2)
    pdf.heading("Revisions", 12)
    for row in revisions:
        r = row["r"]
        when = format_signed_at(r.released_at) if r.released_at else "not released"
        pdf.line_text(f"Rev. {r.label} - {r.get_state_display()} - {when} - {r.change_description or 'no description'}")
    for row in revisions:
        if row.get("signatures"):
            signature_block(pdf, row["signatures"], title=f"Signatures of revision {row['r'].label}")
    pdf.alias_nb_pages()
    return pdf.output_bytes()

"""The printed traveler of a part: what it is, its route, every move with who and when and the
equipment used, every value measured; other modules add their sections (``core.registry.add_pdf_section``
with target ``"mes_lite.part.traveler"``: step control's overrides, rollbacks and inspections)."""

from __future__ import annotations

from traveler.core.pdf import RecordPdf, pdf_sections
from traveler.core.ui.display import format_datetime
from traveler.mes_lite.models import Part
from traveler.mes_lite.selectors import part_traveler

TARGET = "mes_lite.part.traveler"


def _value(m) -> str:
    if m.value is None:
        return "pass" if m.passed else "fail"
    return f"{m.value.normalize():f}{f' {m.definition.unit}' if m.definition.unit else ''}"


def part_traveler_pdf(*, part: Part, access, tenant, printed_by: str) -> bytes:
    t = part_traveler(part=part)
    pdf = RecordPdf(title=f"Traveler {part.serial_number}", tenant=tenant.name, printed_by=printed_by)
    pdf.heading(f"Traveler of part {part.serial_number}")
    pdf.fields([
        ("Part type", part.part_type), ("Process", part.process), ("Work order", part.work_order),
        ("Position in work order", part.sequence), ("Order", part.order), ("Status", part.get_status_display()),
        ("Current step", part.current_step.name if part.current_step_id else None), ("Why", part.status_reason),
    ])
    pdf.ln(2)
    pdf.heading("Route", 12)
    for r in t["route"]:
        pdf.line_text(f"{r['step'].sequence}. {r['step'].name} ({r['state']})")
    used: dict[int, list[str]] = {}
    for u in t["equipment_usages"]:
        used.setdefault(u.transition_id, []).append(str(u.equipment))
    values: dict[int, list[str]] = {}
    for m in t["measurements"]:
        values.setdefault(m.transition_id, []).append(f"{m.definition.label} = {_value(m)}"
                                                      f"{'' if m.in_spec else ' (out of specification)'}")
    pdf.ln(2)
    pdf.heading("History", 12)
    for log in t["transitions"]:
        where = log.from_step.name if log.from_step_id else "-"
        who = log.operator.full_name if log.operator else "System"
        pdf.line_text(f"{format_datetime(log.transition_time)}  {log.get_action_display()} at '{where}' by {who}: "
                      f"{log.get_from_status_display()} -> {log.get_to_status_display()}", bold=True)
        equipment = [f"Equipment: {', '.join(used[log.pk])}"] if log.pk in used else []
        for line in ([log.note] if log.note else []) + values.get(log.pk, []) + equipment:
            pdf.line_text(f"    {line}")
    pdf_sections(pdf, TARGET, part, access=access, tenant=tenant)
    pdf.alias_nb_pages()
    return pdf.output_bytes()

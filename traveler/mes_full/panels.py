"""Step control's panels on the traveler's pages: what a step requires (on its process page, with
add and archive), and a part's visits and inspections (on its page, with "Inspect" for inspectors)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse

from traveler.core.registry import Panel, PdfSection, add_panel, add_pdf_section
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.models import StepExecution, StepInspection
from traveler.mes_full.services.requirements import requirements_of

VISITS_SHOWN = 20


def _step_requirements(request, step) -> str:
    from traveler.mes_full.models import TrainingType
    from traveler.mes_lite.models import EquipmentType, MeasurementDefinition

    can_change = request.access.has("mes_full.change_steprequirement")
    context = {"step": step, "requirements": requirements_of(step), "can_change": can_change,
               "next": request.get_full_path()}
    if can_change:
        from traveler.core.models import Document

        context.update({
            "kinds": RequirementKind.choices,
            "definitions": MeasurementDefinition.objects.filter(step=step, archived_at__isnull=True).order_by("sequence"),
            "documents": Document.objects.filter(archived_at__isnull=True).order_by("number")[:200],
            "training_types": TrainingType.objects.filter(archived_at__isnull=True).order_by("name"),
            "equipment_types": EquipmentType.objects.filter(archived_at__isnull=True).order_by("name"),
        })
    return render_to_string("mes_full/panels/step_requirements.html", context, request=request)


def _part_visits(request, part) -> str:
    visits = list(StepExecution.objects.filter(part=part).select_related("step", "operator")
                  .order_by("-finished_at", "-pk")[:VISITS_SHOWN])
    inspections = list(StepInspection.objects.filter(part=part).select_related("step", "inspector")
                       .order_by("-inspected_at", "-pk")[:VISITS_SHOWN])
    inspect_url = (f"{reverse('mes_full:inspect')}?part={part.pk}"
                   if request.access.has("mes_full.inspect_part") and part.current_step_id else None)
    return render_to_string("mes_full/panels/part_visits.html", {
        "visits": visits, "inspections": inspections, "inspect_url": inspect_url}, request=request)


add_panel(Panel("mes_full", "mes_lite.step.detail", "Requirements", _step_requirements,
                permission="mes_full.view_steprequirement", order=30))
add_panel(Panel("mes_full", "mes_lite.part.detail", "Visits and inspections", _part_visits,
                permission="mes_full.view_steprequirement", order=30))


# Training and calibration: a gauge's calibration records on its page.

CALIBRATIONS_SHOWN = 10


def _equipment_calibrations(request, equipment) -> str:
    from traveler.mes_full.models import CalibrationRecord

    records = list(CalibrationRecord.objects.filter(equipment=equipment, archived_at__isnull=True)
                   .select_related("performed_by").order_by("-calibrated_on", "-pk")[:CALIBRATIONS_SHOWN])
    can_record = request.access.has("mes_full.record_calibration") and equipment.archived_at is None
    return render_to_string("mes_full/calibration/_equipment_panel.html", {
        "records": records, "shown": CALIBRATIONS_SHOWN,
        "all_url": f"{reverse('mes_full:calibrationrecord-list')}?equipment={equipment.pk}",
        "record_url": f"{reverse('mes_full:calibrationrecord-create')}?equipment={equipment.pk}" if can_record else None,
    }, request=request)


add_panel(Panel("mes_full", "mes_lite.equipment.detail", "Calibration records", _equipment_calibrations,
                permission="mes_full.view_calibrationrecord", order=40))

# Rollbacks on the part's traveler page.


def _rollbacks(request, obj) -> str:
    from traveler.mes_full.ui.rollbacks import part_rollbacks_panel

    return part_rollbacks_panel(request, obj)


add_panel(Panel("mes_full", "mes_lite.part.detail", "Rollbacks", _rollbacks, permission="mes_full.view_steprollback",
                order=60))


# The printed traveler: overrides, rollbacks and signed inspections of the part.

def _traveler_pdf(pdf, part) -> None:
    from traveler.core.ui.display import format_datetime
    from traveler.mes_full.models import StepRollback
    from traveler.mes_full.services.overrides import overrides_of_part

    overrides = overrides_of_part(part)
    rollbacks = list(StepRollback.objects.filter(part=part).select_related("from_step", "to_step", "requested_by")
                     .order_by("requested_at", "pk"))
    inspections = list(StepInspection.objects.filter(part=part).select_related("step", "inspector")
                       .order_by("inspected_at", "pk"))
    if not (overrides or rollbacks or inspections):
        return
    pdf.ln(2)
    pdf.heading("Step control", 12)
    for row in overrides:
        o, use = row["override"], row["use"]
        approved = (f"approved (signed) by {o.approved_by.full_name} {format_datetime(o.approved_at)}"
                    if o.approved_by_id else o.get_override_status_display().lower())
        pdf.line_text(f"Override #{o.pk} at '{o.step.name}': {o.get_block_kind_display()}; requested by "
                      f"{o.requested_by.full_name} {format_datetime(o.requested_at)}: {o.reason}; {approved}"
                      + (f"; used for this part {format_datetime(use.used_at)}" if use else ""))
    for r in rollbacks:
        pdf.line_text(f"Rollback #{r.pk} from '{r.from_step.name}' to '{r.to_step.name}' "
                      f"({r.get_status_display().lower()}): {r.reason}"
                      + (f"; {r.approval_notes}" if r.approval_notes else ""))
    for i in inspections:
        pdf.line_text(f"Inspection at '{i.step.name}': {'passed' if i.passed else 'failed'}, signed by "
                      f"{i.inspector.full_name if i.inspector else '-'} {format_datetime(i.inspected_at)}"
                      + (f": {i.note}" if i.note else ""))


add_pdf_section(PdfSection("mes_full", "mes_lite.part.traveler", "Step control", _traveler_pdf,
                           permission="mes_full.view_steprequirement", order=30))

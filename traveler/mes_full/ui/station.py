"""The operator station's step panel: every requirement of the part's current step and every block
that would stop its advance now, what is satisfied and what blocks, with what the user can do about
each: request an override (kinds an override lifts), read the work instruction ("I have read it"),
make the part the first piece of its scope.

The panel sits right under the station's "Blocked" message, so a refused advance shows its blocks
again here with their actions (mes_lite's station is not changed)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from traveler.core.access import visible
from traveler.core.errors import TravelerError
from traveler.core.models import Document
from traveler.core.registry import guard_check
from traveler.core.ui.generic import ShellView
from traveler.mes_full.choices import DOCUMENT_UNACKNOWLEDGED, BlockKind, OverrideLimit, OverrideStatus, RequirementKind
from traveler.mes_full.models import DocumentAcknowledgement, StepOverride
from traveler.mes_full.services.fpi import current_record, requirement_of, scope_of
from traveler.mes_full.services.overrides import overrides_covering
from traveler.mes_full.services.requirements import document_acknowledge, inspections_this_visit, requirements_of
from traveler.mes_lite.choices import PART_TRANSITIONS, TransitionAction
from traveler.mes_lite.models import Equipment, Part

STATION_EQUIPMENT = "mes_lite_station_equipment"  # the station's session key: equipment last used per step


def _equipment(request, part) -> list[Equipment]:
    ids = request.session.get(STATION_EQUIPMENT, {}).get(str(part.current_step_id), []) if hasattr(
        request, "session") else []
    return list(Equipment.objects.filter(pk__in=[i for i in ids if isinstance(i, int)]).select_related("equipment_type"))


def _requirement_rows(part, step, refusals, user, equipment) -> list[dict]:
    kinds = {r.kind for r in refusals}
    rows = []
    inspected = None
    for r in requirements_of(step):
        if r.kind == RequirementKind.MEASUREMENT:
            rows.append({"label": f"Record {r.definition.label}", "state": "to_record", "state_label": "To record"})
        elif r.kind == RequirementKind.INSPECTION:
            if inspected is None:
                inspected = inspections_this_visit([part.pk], step).get(part.pk)
            done = inspected is not None and inspected.passed
            rows.append({"label": "Inspection sign-off", "state": "satisfied" if done else "blocks",
                         "state_label": "Signed off" if done else "Missing"})
        elif r.kind == RequirementKind.DOCUMENT:
            blocked = DOCUMENT_UNACKNOWLEDGED in kinds and not DocumentAcknowledgement.objects.filter(
                user=user, revision__document=r.document, revision__state="released").exists()
            rows.append({"label": f"Read {r.document.number} {r.document.title}".strip(), "document": r.document,
                         "state": "blocks" if blocked else "satisfied",
                         "state_label": "Not read yet" if blocked else "Read"})
        elif r.kind == RequirementKind.TRAINING:
            blocked = BlockKind.TRAINING_EXPIRED in kinds
            rows.append({"label": f"Training: {r.training_type.name}", "state": "blocks" if blocked else "satisfied",
                         "state_label": "Not current" if blocked else "Current"})
        elif r.kind == RequirementKind.EQUIPMENT:
            used = any(e.equipment_type_id == r.equipment_type_id for e in equipment)
            rows.append({"label": f"Calibrated {r.equipment_type.name}", "state": "satisfied" if used else "blocks",
                         "state_label": "Chosen" if used else "Choose it below"})
    fpi = requirement_of(step)
    if fpi is not None:
        key, label = scope_of(fpi, work_order_id=part.work_order_id, operator=user, equipment=equipment,
                              at=timezone.now())
        record = current_record(step, key)
        blocked = BlockKind.FPI_FAILED in kinds
        if record is None:
            state_label = "No first piece yet"
        elif record.part_id == part.pk:
            state_label = f"This part is the first piece: {record.get_fpi_status_display().lower()}"
        else:
            state_label = f"First piece {record.part.serial_number}: {record.get_fpi_status_display().lower()}"
        rows.append({"label": f"First-piece inspection ({fpi.get_scope_display().lower()}: {label})",
                     "state": "blocks" if blocked else "satisfied", "state_label": state_label,
                     "designate": record is None and blocked})
    return rows


def station_panel(request, part: Part) -> str:
    """The panel on "mes_lite.station.part" (see the module docstring)."""
    if part.current_step_id is None or part.status not in PART_TRANSITIONS[TransitionAction.ADVANCE]:
        return ""
    step = part.current_step
    user = request.user
    equipment = _equipment(request, part)
    refusals = guard_check("mes.part.advance", waive=False, parts=[part], step=step, equipment=equipment,
                           measured=[], operator=user, today=timezone.localdate(), preview=True)
    rows = _requirement_rows(part, step, refusals, user, equipment)
    if not rows and not refusals:
        return ""
    may_request = request.access.has("mes_full.request_override")
    liftable = {r.kind for r in refusals if r.overridable and r.kind in BlockKind.values}
    covering = overrides_covering(parts=[part], step=step, kinds=liftable) if liftable else {}
    pending = {o.block_kind: o for o in StepOverride.objects.filter(
        part=part, step=step, override_status=OverrideStatus.REQUESTED).order_by("-requested_at")}
    blocks = []
    for r in refusals:
        override = covering.get((r.kind, part.pk))
        blocks.append({
            "reason": r.reason, "kind": r.kind,
            "kind_label": BlockKind(r.kind).label if r.kind in BlockKind.values else "",
            "approved": override, "requested": pending.get(r.kind),
            "may_request": may_request and r.kind in liftable and override is None and r.kind not in pending,
            "acknowledge": r.kind == DOCUMENT_UNACKNOWLEDGED and request.access.has("mes_full.acknowledge_document"),
        })
    unread = [row["document"] for row in rows if row.get("document") is not None and row["state"] == "blocks"]
    return render_to_string("mes_full/station/panel.html", {
        "part": part, "step": step, "rows": rows, "blocks": blocks, "unread": unread,
        "limits": OverrideLimit.choices, "next": f"{reverse('mes_lite:station')}?serial={part.serial_number}",
        "may_designate": request.access.has("mes_lite.advance_part"),
    }, request=request)


def back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = default
    return HttpResponseRedirect(target or default)


class DocumentAcknowledgeView(ShellView):
    """POST: "I have read it": the user acknowledges the released revision of a work instruction."""

    permission = "mes_full.acknowledge_document"
    http_method_names = ["post"]

    def post(self, request, pk):
        document = get_object_or_404(visible(Document.objects.all(), request.access), pk=pk)
        try:
            document_acknowledge(document=document, user=request.user)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You read {document.number} {document.title}.".replace("  ", " "))
        return back(request, reverse("mes_lite:station"))


urlpatterns = [
    path("station/documents/<int:pk>/read/", DocumentAcknowledgeView.as_view(), name="station-acknowledge"),
]

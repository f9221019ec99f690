"""Pages for step requirements (add and remove on the step's process page), the inspector's sign-off
of a part at its step (signed with the password), and an operator's acknowledgement of a work
instruction."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from traveler.core.access import visible
from traveler.core.auth import client_ip
from traveler.core.errors import TravelerError
from traveler.core.models import Document
from traveler.core.ui.generic import ShellView
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.models import StepRequirement, TrainingType
from traveler.mes_full.models.execution import REQUIREMENT_TARGET
from traveler.mes_full.services import requirements as svc
from traveler.mes_lite.models import EquipmentType, MeasurementDefinition, Part, Step


def _back(request, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = fallback
    return HttpResponseRedirect(target)


def _pick(model, raw: str):
    return model.objects.filter(pk=int(raw), archived_at__isnull=True).first() if raw and raw.isdigit() else None


class RequirementAdd(ShellView):
    http_method_names = ["post"]
    permission = "mes_full.change_steprequirement"

    def post(self, request, step):
        step = get_object_or_404(Step.objects.select_related("process"), pk=step)
        kind = request.POST.get("kind", "")
        data = {"step": step, "kind": kind, "note": request.POST.get("note", "").strip()}
        # Only the target the kind names is taken: the other lists of the form may keep a choice.
        target = REQUIREMENT_TARGET.get(kind)
        models = {"definition": MeasurementDefinition, "document": Document, "training_type": TrainingType,
                  "equipment_type": EquipmentType}
        if target:
            data[target] = _pick(models[target], request.POST.get(target, ""))
        try:
            svc.requirement_create(data=data)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Step '{step.name}' now requires: {dict(RequirementKind.choices)[kind].lower()}.")
        return _back(request, reverse("mes_lite:process-detail", args=[step.process_id]))


class RequirementArchive(ShellView):
    http_method_names = ["post"]
    permission = "mes_full.change_steprequirement"

    def post(self, request, pk):
        req = get_object_or_404(StepRequirement.objects.select_related("step"), pk=pk)
        version = request.POST.get("version", "")
        try:
            svc.requirement_archive(requirement=req, version=int(version) if version.isdigit() else None,
                                    reason=request.POST.get("reason", "").strip() or None)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Requirement removed from step '{req.step.name}'.")
        return _back(request, reverse("mes_lite:process-detail", args=[req.step.process_id]))


class InspectPart(ShellView):
    """An inspector finds a part (by serial number or from its page), sees its step and what the step
    requires, and signs off pass or fail."""

    permission = "mes_full.inspect_part"

    def _part(self, request, raw_id: str = "", serial: str = "") -> Part | None:
        parts = visible(Part.objects.select_related("current_step", "part_type", "work_order"), request.access)
        if raw_id.isdigit():
            return parts.filter(pk=int(raw_id)).first()
        if serial:
            return parts.filter(serial_number=serial.strip()).order_by("pk").first()
        return None

    def page(self, request, part: Part | None, *, error: str = "", status: int = 200, query: str = ""):
        step = part.current_step if part else None
        blocks = svc.part_gates(part=part, operator=None)[1] if part else []
        return render(request, "mes_full/inspect.html", {
            "part": part, "step": step, "query": query, "error": error,
            "requirements": svc.requirements_of(step) if step else [],
            "inspections": list(svc.inspections_this_visit([part.pk], step).values()) if step else [],
            "blocks": [b for b in blocks if b.kind not in ("document_unacknowledged", "training_expired")],
        }, status=status)

    def get(self, request):
        query = request.GET.get("serial", "").strip()
        part = self._part(request, request.GET.get("part", ""), query)
        if (query or request.GET.get("part")) and part is None:
            return self.page(request, None, error=f"No part {query or request.GET.get('part')} found.", status=404,
                             query=query)
        return self.page(request, part, query=query)

    def post(self, request):
        part = self._part(request, request.POST.get("part", ""))
        if part is None:
            return self.page(request, None, error="No such part.", status=404)
        decision = request.POST.get("decision", "")
        if decision not in ("pass", "fail"):
            return self.page(request, part, error="Choose pass or fail.", status=400)
        try:
            svc.inspection_record(part=part, passed=decision == "pass", user=request.user,
                                  password=request.POST.get("password", ""), note=request.POST.get("note", ""),
                                  ip=client_ip(request))
        except TravelerError as exc:
            return self.page(request, part, error=exc.message, status=exc.status)
        messages.success(request, f"{part.serial_number} {'passed' if decision == 'pass' else 'failed'} inspection at "
                                  f"'{part.current_step.name}' (signed).")
        return HttpResponseRedirect(f"{reverse('mes_full:inspect')}?part={part.pk}")


class AcknowledgeDocument(ShellView):
    """POST: "I have read it" for a work instruction's released revision."""

    http_method_names = ["post"]
    permission = "mes_full.acknowledge_document"

    def post(self, request, pk):
        document = get_object_or_404(visible(Document.objects.all(), request.access), pk=pk)
        try:
            ack = svc.document_acknowledge(document=document, user=request.user)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You read {document} (revision {ack.revision.label}).")
        return _back(request, reverse("mes_lite:station"))


urlpatterns = [
    path("steps/<int:step>/requirements/add/", RequirementAdd.as_view(), name="requirement-add"),
    path("requirements/<int:pk>/archive/", RequirementArchive.as_view(), name="requirement-archive"),
    path("inspect/", InspectPart.as_view(), name="inspect"),
    path("documents/<int:pk>/acknowledge/", AcknowledgeDocument.as_view(), name="acknowledge"),
]

"""Rollback pages: the list, one rollback (its approval's signatures shown by core's panel), the
request made from a part's traveler page, and the traveler's "Rollbacks" panel."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse

from traveler.core.access import check, visible
from traveler.core.errors import TravelerError
from traveler.core.ui.generic import RecordDetailView, RecordListView, ShellView, record_urls
from traveler.mes_full.models import StepRollback
from traveler.mes_full.services import rollbacks as svc
from traveler.mes_lite.models import Part, Step, StepMeasurement

VIEW, REQUEST = "mes_full.view_steprollback", "mes_full.request_steprollback"


class RollbackList(RecordListView):
    model = StepRollback
    columns = ["__str__", "part", "from_step", "to_step", "status", "reason", "requested_by", "requested_at"]
    search_fields = ["reason", "part__serial_number"]
    filter_fields = ["status"]

    def get_queryset(self):
        return super().get_queryset().select_related("part", "from_step", "to_step", "requested_by")


class RollbackDetail(RecordDetailView):
    model = StepRollback
    template_name = "mes_full/rollbacks/detail.html"
    fields = ["part", "from_step", "to_step", "reason", "status", "requested_by", "requested_at", "approval_notes",
              "decided_at", "completed_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("part", "from_step", "to_step", "requested_by")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context["superseded"] = list(
                StepMeasurement.objects.filter(part_id=obj.part_id, transition_id__in=obj.superseded_transition_ids)
                .select_related("definition", "step").order_by("recorded_at", "pk"))
            context["approval_url"] = (reverse("core:approval-detail", args=[obj.approval_request_id])
                                       if obj.approval_request_id else None)
        return context


class RollbackRequest(ShellView):
    """POST from the part's traveler page: ask to move it back to an earlier step."""

    http_method_names = ["post"]
    permission = REQUEST

    def post(self, request, part):
        check(request.access, request.user, "mes_lite.view_part")
        obj = get_object_or_404(visible(Part.objects.all(), request.access), pk=part)
        raw = request.POST.get("to_step", "")
        to_step = Step.objects.filter(pk=int(raw), process_id=obj.process_id).first() if raw.isdigit() and \
            len(raw) < 19 else None
        try:
            rollback = svc.rollback_request(part=obj, to_step=to_step, reason=request.POST.get("reason", ""),
                                            user=request.user)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{rollback} of {obj.serial_number} requested: it moves once approved.")
        return HttpResponseRedirect(reverse("mes_lite:part-detail", args=[obj.pk]))


def part_rollbacks_panel(request, part) -> str:
    """The traveler's panel: the part's rollbacks, what each superseded, and the request form."""
    rollbacks = list(StepRollback.objects.filter(part=part).select_related("from_step", "to_step", "requested_by")
                     .order_by("-requested_at", "-pk"))
    superseded = svc.superseded_measurement_ids([part.pk]) if rollbacks else set()
    measurements = (list(StepMeasurement.objects.filter(pk__in=superseded).select_related("definition", "step")
                         .order_by("recorded_at", "pk")) if superseded else [])
    may_request = request.access.has(REQUEST) and not any(r.status == "requested" for r in rollbacks)
    targets = svc.rollback_targets(part=part) if may_request and part.current_step_id else []
    return render_to_string("mes_full/rollbacks/panel.html", {
        "part": part, "rollbacks": rollbacks, "superseded": measurements, "targets": targets,
        "can_request": may_request and bool(targets),
        "request_url": reverse("mes_full:steprollback-request", args=[part.pk]),
    }, request=request)


urlpatterns = [
    *record_urls("rollbacks/", StepRollback, list=RollbackList, detail=RollbackDetail, history=True),
    path("rollbacks/request/<int:part>/", RollbackRequest.as_view(), name="steprollback-request"),
]

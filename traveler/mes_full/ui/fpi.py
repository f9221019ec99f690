"""First-piece inspection pages: the board (per step and scope: the first piece, its status, the parts
waiting for it), and what is done to a first piece: designate it (the station), record its inspection,
ask for a waiver, start its scope over."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import check, visible
from traveler.core.auth import client_ip
from traveler.core.errors import TravelerError
from traveler.core.ui.generic import ShellView
from traveler.mes_full.models import FPIRecord
from traveler.mes_full.services import fpi as svc
from traveler.mes_full.ui.station import _equipment, back
from traveler.mes_lite.models import Part, Step

VIEW, WAIVE = "mes_full.view_fpirecord", "mes_full.waive_fpi"


class Board(ShellView):
    permission = VIEW

    def get(self, request):
        step_id = request.GET.get("step", "")
        step = Step.objects.filter(pk=int(step_id)).first() if step_id.isdigit() else None
        rows = svc.fpi_board(step=step)
        return render(request, "mes_full/fpi/board.html", {
            "rows": rows, "step": step, "may_waive": request.access.has(WAIVE),
            "may_inspect": request.access.has("mes_full.inspect_part")})


class Designate(ShellView):
    """POST: this part is the first piece of its scope (the user's, with the station's equipment, now)."""

    permission = "mes_lite.advance_part"
    http_method_names = ["post"]

    def post(self, request, pk):
        part = get_object_or_404(visible(Part.objects.select_related("current_step"), request.access), pk=pk)
        try:
            record = svc.fpi_designate(part=part, operator=request.user, equipment=_equipment(request, part))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{part.serial_number} is the first piece for {record.scope_label}: an "
                                      "inspector records its first-piece inspection.")
        return back(request, reverse("mes_full:fpi-board"))


class RecordAct(ShellView):
    """POST on a first piece: ``inspect`` (signed), ``waiver`` (ask for one, with the reason), ``restart``."""

    permission = VIEW
    http_method_names = ["post"]

    def post(self, request, pk, action):
        record = get_object_or_404(FPIRecord.objects.select_related("part", "part__current_step"), pk=pk)
        get_object_or_404(visible(Part.objects.all(), request.access), pk=record.part_id)
        p = request.POST
        try:
            if action == "inspect":
                check(request.access, request.user, "mes_full.inspect_part")
                record = svc.fpi_inspection_record(part=record.part, record=record, passed=p.get("passed") == "pass",
                                                   user=request.user, password=p.get("password", ""),
                                                   note=p.get("note", ""), ip=client_ip(request))
                done = f"first piece {record.part.serial_number}: {record.get_fpi_status_display().lower()}"
            elif action == "waiver":
                check(request.access, request.user, WAIVE)
                req = svc.fpi_waiver_request(record=record, reason=p.get("reason", ""), user=request.user)
                done = f"waiver requested (approval request #{req.pk})"
            elif action == "restart":
                check(request.access, request.user, WAIVE)
                svc.fpi_restart(record=record, reason=p.get("reason", ""))
                done = "started over: the next part to pass the step is the new first piece"
            else:
                messages.error(request, f"“{action}” is not something done to a first piece.")
                return back(request, reverse("mes_full:fpi-board"))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"First-piece inspection #{record.pk}: {done}.")
        return back(request, reverse("mes_full:fpi-board"))


urlpatterns = [
    path("fpi/", Board.as_view(), name="fpi-board"),
    path("fpi/<int:pk>/<str:action>/", RecordAct.as_view(), name="fpi-act"),
    path("parts/<int:pk>/first-piece/", Designate.as_view(), name="fpi-designate"),
]

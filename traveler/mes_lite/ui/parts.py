"""Parts: find one by serial number, read its traveler, put it on hold, release it, scrap it.

The pages show a part's transition log, so they need ``mes_lite.view_transition`` besides
``mes_lite.view_part``: customers follow their orders on the progress page instead.
"""

from __future__ import annotations

from django.urls import path, reverse

from traveler.core.ui.display import format_datetime
from traveler.core.ui.generic import Column, RecordDetailView, RecordHistoryView, RecordListView
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.selectors import part_traveler
from traveler.mes_lite.services.parts import part_hold, part_release, part_scrap
from traveler.mes_lite.ui.common import ActionView, badge_cells, route_nodes, spec, status_badge, transition_rows

TRAVELER = "mes_lite.view_transition"


class _PartPage:
    def get_permissions(self):
        return [*super().get_permissions(), TRAVELER]


class PartList(_PartPage, RecordListView):
    """Search by serial number (a scanner types into the search box); filter by status, work order, step."""

    model = Part
    columns = ["serial_number", "part_type", Column("work_order", "Work order"), Column("current_step", "Step"),
               "status", "updated_at"]
    search_fields = ["serial_number"]
    filter_fields = ["status"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "work_order", "current_step")

    def filtered(self):
        qs = super().filtered()
        wo, step = self.request.GET.get("work_order", ""), self.request.GET.get("step", "")
        if wo.isdigit():
            qs = qs.filter(work_order_id=int(wo))
        if step.isdigit():
            qs = qs.filter(current_step_id=int(step))
        return qs

    def render(self, context, status=200, template=None):
        badge_cells(context, "status", status_badge)
        return super().render(context, status, template)


class PartDetail(_PartPage, RecordDetailView):
    """The part's digital traveler: its route and position, every move with who and when, every value."""

    model = Part
    template_name = "mes_lite/part_detail.html"
    fields = ["serial_number", "part_type", "status", "current_step", "work_order", "order", "process",
              "status_reason"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "current_step", "work_order", "order", "process")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is None:
            return context
        t = part_traveler(part=obj)
        by_step: dict[int, list] = {}
        for m in t["measurements"]:
            by_step.setdefault(m.step_id, []).append(m)
        route = []
        for r in route_nodes(t["route"], obj):
            defs = {d.pk: spec(d) for d in r["definitions"]}
            values = [{"m": m, "spec": defs.get(m.definition_id) or spec(m.definition), "when": format_datetime(m.recorded_at)}
                      for m in by_step.get(r["step"].pk, [])]
            route.append({**r, "values": values})
        access = self.request.access
        status = obj.status
        context.update({
            "route": route,
            "has_values": bool(t["measurements"]), "history": transition_rows(t["transitions"], t["equipment_usages"]), "part_badge": status_badge(obj),
            "can_hold": access.has("mes_lite.hold_part") and status in (PartStatus.PENDING, PartStatus.IN_PROCESS,
                                                                         PartStatus.QUARANTINED),
            "can_release": access.has("mes_lite.hold_part") and status == PartStatus.ON_HOLD,
            "can_scrap": access.has("mes_lite.scrap_part") and status not in (PartStatus.COMPLETED,
                                                                               PartStatus.SCRAPPED,
                                                                               PartStatus.RETURNED),
            "station_url": (f"{reverse('mes_lite:station')}?serial={obj.serial_number}"
                            if access.has("mes_lite.advance_part") and status in (PartStatus.PENDING,
                                                                                  PartStatus.IN_PROCESS) else None),
        })
        return context


class PartHistory(_PartPage, RecordHistoryView):
    model = Part


class PartTravelerPdf(_PartPage, RecordDetailView):
    """The part's traveler, printed: route, history with values and equipment, other modules' sections."""

    model = Part

    def get(self, request, *args, **kwargs):
        from django.http import HttpResponse

        from traveler.mes_lite.pdf import part_traveler_pdf

        part = self.get_object()
        body = part_traveler_pdf(part=part, access=request.access, tenant=request.tenant,
                                 printed_by=request.user.full_name or request.user.email)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="traveler-{part.serial_number}.pdf"'
        return response


class _PartAction(ActionView):
    model = Part
    permission = ""

    def get_permissions(self):
        return [self.permission, TRAVELER]


class PartHold(_PartAction):
    permission = "mes_lite.hold_part"
    done = "is on hold"

    def apply(self, obj, reason):
        return part_hold(part=obj, reason=reason)


class PartRelease(_PartAction):
    permission = "mes_lite.hold_part"
    done = "is released from hold"

    def apply(self, obj, reason):
        return part_release(part=obj, reason=reason)


class PartScrap(_PartAction):
    permission = "mes_lite.scrap_part"
    done = "is scrapped"

    def apply(self, obj, reason):
        return part_scrap(part=obj, reason=reason)


urlpatterns = [
    path("parts/", PartList.as_view(), name="part-list"),
    path("parts/<int:pk>/", PartDetail.as_view(), name="part-detail"),
    path("parts/<int:pk>/history/", PartHistory.as_view(), name="part-history"),
    path("parts/<int:pk>/traveler.pdf", PartTravelerPdf.as_view(), name="part-traveler-pdf"),
    path("parts/<int:pk>/hold/", PartHold.as_view(), name="part-hold"),
    path("parts/<int:pk>/release/", PartRelease.as_view(), name="part-release"),
    path("parts/<int:pk>/scrap/", PartScrap.as_view(), name="part-scrap"),
]

"""Equipment with its calibration status (overdue red, due soon amber), and equipment types."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from traveler.core.errors import TravelerError
from traveler.core.ui.generic import (
    Column,
    RecordDetailView,
    RecordFormView,
    RecordListView,
    record_urls,
)
from traveler.mes_lite.models import Equipment, EquipmentType, EquipmentUsage
from traveler.mes_lite.services.equipment import equipment_calibrate, equipment_create, equipment_update
from traveler.mes_lite.ui.common import DUE_SOON_DAYS, badge_cells, calibration, calibration_badge
from traveler.mes_lite.ui.forms import CalibrationForm, EquipmentForm, EquipmentTypeForm

USAGE_ROWS = 200  # on the page; the API pages through all of them


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


class EquipmentList(RecordListView):
    model = Equipment
    template_name = "mes_lite/equipment_list.html"
    columns = ["name", "serial_number", "equipment_type", "last_calibration",
               Column("next_calibration", "Calibration status")]
    search_fields = ["name", "serial_number"]

    def get_queryset(self):
        return super().get_queryset().select_related("equipment_type")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if self.request.access.has("mes_lite.view_equipmenttype"):
            context["types_url"] = reverse("mes_lite:equipmenttype-list")
        return context

    def render(self, context, status=200, template=None):
        badge_cells(context, "next_calibration", calibration_badge)
        return super().render(context, status, template)


class EquipmentDetail(RecordDetailView):
    model = Equipment
    template_name = "mes_lite/equipment_detail.html"
    fields = ["name", "serial_number", "equipment_type", "last_calibration", "last_calibration_result",
              "calibration_certificate", "next_calibration"]
    calibration_form: CalibrationForm | None = None

    def get_queryset(self):
        return super().get_queryset().select_related("equipment_type")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context.update({
                "calibration": calibration(obj), "due_soon_days": DUE_SOON_DAYS,
                "calibration_form": self.calibration_form or CalibrationForm(),
                "can_calibrate": self.can("change") and obj.archived_at is None,
                **self.usage(obj),
            })
        return context

    def usage(self, obj) -> dict:
        """The parts this equipment measured between two days (``?from=`` and ``?to=``, inclusive)."""
        today = timezone.localdate()
        first = _day(self.request.GET.get("from")) or today - timedelta(days=30)
        last = _day(self.request.GET.get("to")) or today
        tz = timezone.get_current_timezone()
        rows = list(EquipmentUsage.objects.filter(
            equipment=obj, start_time__gte=datetime.combine(first, time.min, tz),
            start_time__lt=datetime.combine(last + timedelta(days=1), time.min, tz))
            .select_related("part", "step", "operator").order_by("-start_time", "-pk")[:USAGE_ROWS + 1])
        return {"usage_from": first, "usage_to": last, "usage": rows[:USAGE_ROWS],
                "usage_more": len(rows) > USAGE_ROWS, "usage_rows": USAGE_ROWS}


class EquipmentEdit(RecordFormView):
    model = Equipment
    form_class = EquipmentForm
    create_service = equipment_create
    update_service = equipment_update


class EquipmentCalibrate(EquipmentDetail):
    """POST: record a calibration; the next due date follows from the type's interval."""

    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        equipment = self.get_object()
        form = CalibrationForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                equipment = equipment_calibrate(equipment=equipment, version=equipment.version,
                                                calibrated_on=form.cleaned_data["calibrated_on"],
                                                result=form.cleaned_data["result"],
                                                certificate=form.cleaned_data["certificate"],
                                                reason=form.cleaned_data["reason"] or None)
            except TravelerError as exc:
                field = next((f for f in ("calibrated_on", "result", "certificate") if f in exc.fields), None)
                form.add_error(field, exc.message)
                status = exc.status
            else:
                due = equipment.next_calibration
                messages.success(request, f"Calibration of {equipment} recorded"
                                          f"{f'; next due {due:%Y-%m-%d}' if due else ''}.")
                return HttpResponseRedirect(self.url("detail", equipment))
        self.calibration_form = form
        response = super().get(request, *args, **kwargs)
        response.status_code = status
        return response


class EquipmentTypeList(RecordListView):
    model = EquipmentType
    columns = ["name", Column("calibration_interval_days", "Calibration interval (days)"), "description"]
    search_fields = ["name", "description"]


class EquipmentTypeDetail(RecordDetailView):
    model = EquipmentType
    fields = ["name", "calibration_interval_days", "description"]


class EquipmentTypeEdit(RecordFormView):
    model = EquipmentType
    form_class = EquipmentTypeForm


urlpatterns = [
    *record_urls("equipment/", Equipment, list=EquipmentList, detail=EquipmentDetail, form=EquipmentEdit,
                 archive=True, restore=True, history=True),
    path("equipment/<int:pk>/calibrate/", EquipmentCalibrate.as_view(), name="equipment-calibrate"),
    *record_urls("equipment-types/", EquipmentType, list=EquipmentTypeList, detail=EquipmentTypeDetail,
                 form=EquipmentTypeEdit, archive=True, restore=True, history=True),
]

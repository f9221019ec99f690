"""Calibration pages: the schedule (equipment by due date, overdue red, due soon amber), calibration
records per equipment, recording a calibration, and a failed calibration's suspect-product report
(page and CSV) with its report to Quality."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone

from traveler.core.csvexport import csv_response
from traveler.core.errors import TravelerError
from traveler.core.models import Document, User
from traveler.core.registry import registry
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordFormView,
    RecordHistoryView,
    RecordListView,
    ShellView,
    record_urls,
)
from traveler.mes_full.choices import CalibrationOutcome
from traveler.mes_full.models import CalibrationRecord
from traveler.mes_full.services import calibration as svc
from traveler.mes_full.services.training import training_people
from traveler.mes_lite.models import Equipment

VIEW, RECORD = "mes_full.view_calibrationrecord", "mes_full.record_calibration"
STATE_BADGES = {"overdue": ("badge-dead", "Overdue"), "never": ("badge-dead", "Never calibrated"),
                "due_soon": ("badge-queued", "Due soon"), "ok": ("badge-success", "Calibrated")}


class _Permissions:
    def perm(self, action: str) -> str:
        return VIEW if action == "view" else RECORD


class CalibrationSchedule(ShellView):
    """Every gauge whose type needs calibration, by due date: overdue and failed first (red), due within
    30 days (amber)."""

    permission = VIEW

    def get(self, request):
        today = timezone.localdate()
        rows = svc.calibration_schedule(today=today)
        for row in rows:
            row["badge"], row["label"] = STATE_BADGES[row["state"]]
            if row["equipment"].last_calibration_result == "fail":
                row["label"] = "Failed its calibration"
        return render(request, "mes_full/calibration/schedule.html", {
            "rows": rows, "today": today, "due_soon_days": svc.DUE_SOON_DAYS, "can_record": request.access.has(RECORD),
            "overdue": sum(1 for r in rows if r["state"] in ("overdue", "never"))})


class CalibrationRecordList(_Permissions, RecordListView):
    model = CalibrationRecord
    columns = ["equipment", "calibrated_on", "result", "next_due", "performed_by", "external_lab",
               "certificate_number"]
    search_fields = ["equipment__name", "equipment__serial_number", "external_lab", "certificate_number"]
    filter_fields = ["result"]

    def filtered(self):
        qs = super().filtered()
        equipment = self.request.GET.get("equipment", "")
        return qs.filter(equipment_id=int(equipment)) if equipment.isdigit() else qs


class CalibrationRecordDetail(_Permissions, RecordDetailView):
    model = CalibrationRecord
    template_name = "mes_full/calibration/record_detail.html"
    fields = ["equipment", "calibrated_on", "result", "next_due", "performed_by", "external_lab", "certificate",
              "certificate_number", "adjustment_note", "note", "suspects_reported_at"]

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None and obj.result == CalibrationOutcome.FAIL:
            context["suspects_url"] = reverse("mes_full:calibrationrecord-suspects", args=[obj.pk])
        return context


class CalibrationForm(forms.ModelForm):
    class Meta:
        model = CalibrationRecord
        fields = ["equipment", "calibrated_on", "result", "performed_by", "external_lab", "certificate",
                  "certificate_number", "adjustment_note", "note"]
        widgets = {"calibrated_on": forms.DateInput(attrs={"type": "date"}),
                   "adjustment_note": forms.Textarea(attrs={"rows": 2}), "note": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"performed_by": "Empty with no external lab: you."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = (Equipment.objects.filter(
            archived_at__isnull=True, equipment_type__calibration_interval_days__isnull=False).order_by("name"))
        self.fields["performed_by"].queryset = User.objects.filter(
            pk__in=[u.pk for u in training_people()]).order_by("full_name")
        self.fields["certificate"].queryset = Document.objects.filter(archived_at__isnull=True)


def _record_create(*, data: dict, reason: str | None = None) -> CalibrationRecord:
    return svc.calibration_record(**data, reason=reason)


class CalibrationRecordNew(_Permissions, RecordFormView):
    """Record a calibration; the equipment's calibration status follows from it."""

    model = CalibrationRecord
    form_class = CalibrationForm
    create_service = _record_create

    def get_form(self, data=None, instance=None):
        form = super().get_form(data=data, instance=instance)
        equipment = self.request.GET.get("equipment", "")
        if data is None and equipment.isdigit():
            form.initial["equipment"] = int(equipment)
        return form


class CalibrationRecordHistory(_Permissions, RecordHistoryView):
    model = CalibrationRecord


class CalibrationSuspects(ShellView):
    """The suspect-product report of a failed calibration: every part measured with the gauge since its
    last passing calibration; ``?format=csv`` downloads it; POST reports them to Quality (one
    nonconformance)."""

    permission = VIEW

    def get_permissions(self):
        return [RECORD] if self.request.method == "POST" else [VIEW]

    def _record(self, pk: int) -> CalibrationRecord:
        return get_object_or_404(CalibrationRecord.objects.select_related("equipment"), pk=pk,
                                 result=CalibrationOutcome.FAIL)

    def get(self, request, pk: int):
        record = self._record(pk)
        suspects = svc.calibration_suspects(record=record)
        if request.GET.get("format") == "csv":
            return csv_response(
                filename=f"suspect-parts-{record.equipment.serial_number}-{record.calibrated_on:%Y-%m-%d}.csv",
                header=["serial_number", "work_order", "status", "steps", "uses", "first_used", "last_used"],
                rows=([p["serial_number"], p["work_order"] or "", p["status"], "; ".join(p["steps"]), p["uses"],
                       timezone.localtime(p["first_used"]).isoformat(), timezone.localtime(p["last_used"]).isoformat()]
                      for p in suspects.parts))
        return render(request, "mes_full/calibration/suspects.html", {
            "record": record, "suspects": suspects, "detail_url": reverse("mes_full:calibrationrecord-detail",
                                                                         args=[record.pk]),
            "can_report": (request.access.has(RECORD) and "qms" in registry.modules
                           and record.suspects_reported_at is None and bool(suspects.parts))})

    def post(self, request, pk: int):
        record = self._record(pk)
        try:
            svc.calibration_suspects_report(record=record, reason=request.POST.get("reason", "").strip() or None)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The suspect parts were reported to Quality: one nonconformance is opened "
                                      "for them and they are held.")
        return HttpResponseRedirect(reverse("mes_full:calibrationrecord-suspects", args=[record.pk]))


urlpatterns = [
    path("calibration/", CalibrationSchedule.as_view(), name="calibration-schedule"),
    *record_urls("calibration/records/", CalibrationRecord, list=CalibrationRecordList, detail=CalibrationRecordDetail,
                 form=None, history=CalibrationRecordHistory),
    path("calibration/records/new/", CalibrationRecordNew.as_view(), name="calibrationrecord-create"),
    path("calibration/records/<int:pk>/suspects/", CalibrationSuspects.as_view(), name="calibrationrecord-suspects"),
]

"""Quality's pages: defect codes and quality reports (list, detail, form, archive, history)."""

from __future__ import annotations

from traveler.core.ui.generic import (
    RecordArchiveView,
    RecordDetailView,
    RecordFormView,
    RecordListView,
)
from traveler.mes_lite.models import Part, Step
from traveler.qms.models import QualityErrorsList, QualityReport
from traveler.qms.services.defects import defect_code_create, defect_code_update
from traveler.qms.services.reports import quality_report_archive, quality_report_create, quality_report_update
from traveler.qms.ui.forms import DefectCodeForm, QualityReportForm


def _report_create(*, data: dict, reason: str | None = None) -> QualityReport:
    return quality_report_create(**data, reason=reason)


class DefectCodeList(RecordListView):
    model = QualityErrorsList
    columns = ["code", "description", "severity", "updated_at"]
    search_fields = ["code", "description"]
    filter_fields = ["severity"]


class DefectCodeDetail(RecordDetailView):
    model = QualityErrorsList
    template_name = "qms/defectcode_detail.html"
    fields = ["code", "description", "severity"]

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context["limit_part_types"] = list(obj.part_types.all())
            context["limit_steps"] = list(obj.steps.select_related("process"))
        return context


class DefectCodeEdit(RecordFormView):
    model = QualityErrorsList
    form_class = DefectCodeForm
    service_kwarg = "defect_code"
    create_service = defect_code_create
    update_service = defect_code_update


class QualityReportList(RecordListView):
    model = QualityReport
    columns = ["part", "step", "status", "origin", "created_at"]
    search_fields = ["description"]
    filter_fields = ["status", "origin"]

    def get_queryset(self):
        return super().get_queryset().select_related("part", "step")

    def filtered(self):
        qs = super().filtered()
        part = self.request.GET.get("part", "")
        return qs.filter(part_id=int(part)) if part.isdigit() else qs


class QualityReportDetail(RecordDetailView):
    model = QualityReport
    template_name = "qms/qualityreport_detail.html"
    fields = ["part", "step", "status", "origin", "description"]

    def get_queryset(self):
        return super().get_queryset().select_related("part", "step")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context.update({
                "results": list(obj.results.select_related("definition").order_by("pk")),
                "defects": list(obj.defect_links.select_related("error").order_by("pk")),
                "inspectors": list(obj.inspectors.order_by("full_name")),
                "equipment_used": list(obj.equipment.all()),
            })
        return context


class QualityReportEdit(RecordFormView):
    model = QualityReport
    form_class = QualityReportForm
    service_kwarg = "quality_report"
    create_service = _report_create
    update_service = quality_report_update

    def get_form(self, data=None, instance=None):
        form = super().get_form(data=data, instance=instance)
        if instance is None and data is None:  # ?part= and ?step= choose them (and the step's fields)
            form.initial.update({k: int(v) for k in ("part", "step") if (v := self.request.GET.get(k, "")).isdigit()})
            form.choose(form.chosen("step", Step), form.chosen("part", Part))
            if "reason" in form.fields:  # the reason stays last
                form.fields["reason"] = form.fields.pop("reason")
        return form

    def changed_data(self, form) -> dict:
        data = super().changed_data(form)
        if form.definitions and (self.is_create or form.results_changed()):
            data["results"] = form.results()
        if form.defect_rows and (self.is_create or form.defects_changed()):
            data["defects"] = form.defects()
        return data


class QualityReportArchive(RecordArchiveView):
    model = QualityReport
    archive_service = quality_report_archive
    service_kwarg = "quality_report"

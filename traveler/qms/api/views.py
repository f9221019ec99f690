"""Quality's API views: each parses with an input serializer, is allowed by its ``permission_map``,
calls one service and answers with an output serializer."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema

from traveler.core.api.base import RecordServices, RecordWriteViewSet
from traveler.qms.api import serializers as s
from traveler.qms.models import MeasurementResult, QualityErrorsList, QualityReport, QualityReportDefect
from traveler.qms.services.defects import defect_code_create, defect_code_update
from traveler.qms.services.reports import quality_report_archive, quality_report_create, quality_report_update

QMS = "qms"


def _report_create(*, data: dict, reason: str | None = None) -> QualityReport:
    return quality_report_create(**data, reason=reason)


@extend_schema(tags=["qms: defect codes"])
class DefectCodeViewSet(RecordWriteViewSet):
    """Defect codes: what can be found wrong with a part, with its severity, optionally limited to
    part types and steps."""

    model = QualityErrorsList
    queryset = QualityErrorsList.objects.all()
    permission_prefix = QMS
    serializer_class = s.DefectCodeSerializer
    input_serializer_class = s.DefectCodeInput
    services = RecordServices(create=defect_code_create, update=defect_code_update)
    service_kwarg = "defect_code"
    filterset_fields = ["severity"]
    search_fields = ["code", "description"]
    ordering_fields = ["code", "severity", "created_at"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("part_types", "steps")


@extend_schema(tags=["qms: quality reports"])
class QualityReportViewSet(RecordWriteViewSet):
    """Inspections of a part at a step: status, results against the step's measurement definitions,
    defect codes found, inspectors and equipment. A report with an out-of-spec result cannot pass."""

    model = QualityReport
    queryset = QualityReport.objects.all()
    permission_prefix = QMS
    serializer_class = s.QualityReportSerializer
    input_serializer_class = s.QualityReportInput
    services = RecordServices(create=_report_create, update=quality_report_update, archive=quality_report_archive)
    service_kwarg = "quality_report"
    filterset_fields = ["part", "step", "status", "origin"]
    search_fields = ["description", "part__serial_number"]
    ordering_fields = ["created_at", "status"]

    def get_queryset(self):
        return super().get_queryset().select_related("part", "step").prefetch_related(
            "inspector_links__user", "equipment_links",
            Prefetch("defect_links", queryset=QualityReportDefect.objects.select_related("error").order_by("pk")),
            Prefetch("results", queryset=MeasurementResult.objects.select_related("definition").order_by("pk")))

"""Inspection records: a quality report on one part at one step, its results, defects, inspectors and
equipment."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.qms.choices import ReportOrigin, ReportStatus


class QualityReport(TenantModel):
    """An inspection of one part at one step: pass, fail or pending. Written only by the quality report
    services; a report with an out-of-spec result is never a pass. Customers see none (no
    ``customer_company_path``)."""

    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    description = models.TextField(blank=True)
    origin = models.CharField(max_length=20, choices=ReportOrigin.choices, default=ReportOrigin.MANUAL, editable=False)
    # The event a report created automatically answers (one report per event, however often it is delivered).
    source_event_id = models.BigIntegerField(null=True, blank=True, editable=False)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, through="qms.QualityReportInspector", blank=True,
                                        related_name="+")
    equipment = models.ManyToManyField("mes_lite.Equipment", through="qms.QualityReportEquipment", blank=True,
                                       related_name="+")
    defects = models.ManyToManyField("qms.QualityErrorsList", through="qms.QualityReportDefect", blank=True,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source_event_id"], condition=models.Q(source_event_id__isnull=False),
                                    name="qms_report_one_per_event"),
        ]
        indexes = [models.Index(fields=["part", "created_at"], name="qms_report_part")]

    def __str__(self) -> str:
        return f"Quality report {self.pk}"


class QualityReportInspector(TenantModel):
    report = models.ForeignKey(QualityReport, on_delete=models.PROTECT, related_name="inspector_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "user"], name="qms_report_inspector_unique")]

    def __str__(self) -> str:
        return f"{self.report_id}: inspector {self.user_id}"


class QualityReportEquipment(TenantModel):
    report = models.ForeignKey(QualityReport, on_delete=models.PROTECT, related_name="equipment_links")
    equipment = models.ForeignKey("mes_lite.Equipment", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "equipment"], name="qms_report_equipment_unique")]

    def __str__(self) -> str:
        return f"{self.report_id}: equipment {self.equipment_id}"


class QualityReportDefect(TenantModel):
    """A defect code found in a report, and how many times."""

    report = models.ForeignKey(QualityReport, on_delete=models.PROTECT, related_name="defect_links")
    error = models.ForeignKey("qms.QualityErrorsList", on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["report", "error"], name="qms_report_defect_unique"),
            models.CheckConstraint(condition=models.Q(count__gte=1), name="qms_report_defect_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.error_id} x{self.count}"


class MeasurementResult(TenantModel):
    """A value inspected in a report against a measurement definition of its step; ``in_spec`` is
    decided by the definition (``MeasurementDefinition.in_spec``, as for the traveler's measurements)."""

    report = models.ForeignKey(QualityReport, on_delete=models.PROTECT, related_name="results")
    definition = models.ForeignKey("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    passed = models.BooleanField(null=True)
    in_spec = models.BooleanField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["report", "definition"], name="qms_result_unique_definition")]

    def __str__(self) -> str:
        return f"{self.definition_id}={self.value if self.value is not None else self.passed}"

"""Defect codes: the tenant's list of what can be wrong with a part, optionally limited to part types
and steps."""

from __future__ import annotations

from django.db import models

from traveler.core.models import TenantModel
from traveler.qms.choices import Severity


class QualityErrorsList(TenantModel):
    """A defect code (seed 001: QualityErrorsList). With part types or steps given, it may be recorded
    only on parts of those types, at those steps; with none, anywhere."""

    code = models.CharField(max_length=40)
    description = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    part_types = models.ManyToManyField("mes_lite.PartType", through="qms.QualityErrorPartType", blank=True,
                                        related_name="+")
    steps = models.ManyToManyField("mes_lite.Step", through="qms.QualityErrorStep", blank=True, related_name="+")

    class Meta:
        ordering = ["code"]
        verbose_name = "defect code"
        verbose_name_plural = "defect codes"
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="qms_defectcode_unique_code")]

    def __str__(self) -> str:
        return self.code


class QualityErrorPartType(TenantModel):
    """A part type a defect code is limited to."""

    error = models.ForeignKey(QualityErrorsList, on_delete=models.PROTECT, related_name="part_type_links")
    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["error", "part_type"], name="qms_defectcode_parttype_unique")]

    def __str__(self) -> str:
        return f"{self.error_id}: part type {self.part_type_id}"


class QualityErrorStep(TenantModel):
    """A step a defect code is limited to."""

    error = models.ForeignKey(QualityErrorsList, on_delete=models.PROTECT, related_name="step_links")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["error", "step"], name="qms_defectcode_step_unique")]

    def __str__(self) -> str:
        return f"{self.error_id}: step {self.step_id}"

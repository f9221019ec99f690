"""Calibrations of equipment as records: the only way a gauge's calibration status changes once
step control is installed (each record updates the equipment's calibration fields, which the
traveler's calibration guard reads)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel
from traveler.mes_full.choices import CalibrationOutcome


class CalibrationRecord(TenantModel):
    """One calibration of one piece of equipment: when, its result (pass, fail, adjusted), the next due
    date it gives (from the equipment type's interval), the certificate, who performed it or which
    external lab. A failed calibration makes every part measured with the equipment since its last
    passing calibration suspect (``calibration_suspects``)."""

    equipment = models.ForeignKey("mes_lite.Equipment", on_delete=models.PROTECT, related_name="+")
    calibrated_on = models.DateField()
    result = models.CharField(max_length=10, choices=CalibrationOutcome.choices)
    next_due = models.DateField(null=True, blank=True, help_text="Follows from the equipment type's interval.")
    certificate = models.ForeignKey("core.Document", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="The calibration certificate (a document).")
    certificate_number = models.CharField(max_length=200, blank=True, help_text="The certificate's reference.")
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    external_lab = models.CharField(max_length=200, blank=True)
    adjustment_note = models.TextField(blank=True, help_text="What was adjusted (required when adjusted).")
    note = models.TextField(blank=True)
    suspects_reported_at = models.DateTimeField(null=True, blank=True,
                                                help_text="When the suspect parts were reported to Quality.")

    class Meta:
        ordering = ["-calibrated_on", "-pk"]
        indexes = [models.Index(fields=["equipment", "calibrated_on"], name="mes_full_calibration_equipment")]
        constraints = [models.CheckConstraint(condition=~Q(result=CalibrationOutcome.ADJUSTED) | ~Q(adjustment_note=""),
                                              name="mes_full_calibration_adjusted_note")]

    def __str__(self) -> str:
        return f"{self.equipment} calibrated {self.calibrated_on:%Y-%m-%d}: {self.get_result_display()}"

    @property
    def passed(self) -> bool:
        return self.result != CalibrationOutcome.FAIL

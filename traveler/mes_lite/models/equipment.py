from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from traveler.core.models import TenantModel
from traveler.mes_lite.choices import CalibrationResult


class EquipmentType(TenantModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    calibration_interval_days = models.PositiveIntegerField(null=True, blank=True,
                                                            help_text="Empty: needs no calibration.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="mes_equipmenttype_unique_name")]

    def __str__(self) -> str:
        return self.name


class Equipment(TenantModel):
    """A gauge, fixture or machine. When its type needs calibration, it may be used only once calibrated,
    with a passed last calibration, and not past its due date. The calibration fields change only through
    ``equipment_calibrate`` (who recorded it is in the record's history)."""

    equipment_type = models.ForeignKey(EquipmentType, on_delete=models.PROTECT, related_name="equipment")
    name = models.CharField(max_length=200)
    serial_number = models.CharField(max_length=100)
    last_calibration = models.DateField(null=True, blank=True)
    next_calibration = models.DateField(null=True, blank=True, help_text="Calibration due date.")
    last_calibration_result = models.CharField(max_length=10, choices=CalibrationResult.choices, blank=True)
    calibration_certificate = models.CharField(max_length=200, blank=True,
                                               help_text="Reference of the last calibration's certificate.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "equipment"
        constraints = [models.UniqueConstraint(fields=["tenant", "serial_number"], name="mes_equipment_unique_serial")]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"

    def calibration_overdue(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.next_calibration is not None and self.next_calibration < today

    def calibration_refusal(self, today: datetime.date | None = None) -> str | None:
        """Why this equipment may not be used today (None: it may)."""
        if self.calibration_overdue(today):
            return f"calibration overdue since {self.next_calibration:%Y-%m-%d}"
        if not self.equipment_type.calibration_interval_days:
            return None  # its type needs no calibration
        if self.last_calibration is None or self.next_calibration is None:
            return "never calibrated"
        if self.last_calibration_result == CalibrationResult.FAIL:
            return f"failed its calibration of {self.last_calibration:%Y-%m-%d}"
        return None


class EquipmentUsage(TenantModel):
    """Equipment used on a part at a step (recorded with the transition)."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="usages")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="equipment_usages")
    transition = models.ForeignKey("mes_lite.StepTransitionLog", null=True, on_delete=models.PROTECT,
                                   related_name="equipment_usages")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    start_time = models.DateTimeField()
    end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start_time", "pk"]

    def __str__(self) -> str:
        return f"{self.equipment_id} on {self.part_id}"

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from traveler.core.models import TenantModel


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
    """A gauge, fixture or machine. Past its calibration due date it may not be used."""

    equipment_type = models.ForeignKey(EquipmentType, on_delete=models.PROTECT, related_name="equipment")
    name = models.CharField(max_length=200)
    serial_number = models.CharField(max_length=100)
    last_calibration = models.DateField(null=True, blank=True)
    next_calibration = models.DateField(null=True, blank=True, help_text="Calibration due date.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "equipment"
        constraints = [models.UniqueConstraint(fields=["tenant", "serial_number"], name="mes_equipment_unique_serial")]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"

    def calibration_overdue(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.next_calibration is not None and self.next_calibration < today


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

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.mes_lite.choices import PartStatus, TransitionAction


class Part(TenantModel):
    """One serialized part and where it is on its route: the head of its digital traveler."""

    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="parts")
    serial_number = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=PartStatus.choices, default=PartStatus.PENDING)
    current_step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    process = models.ForeignKey("mes_lite.Process", on_delete=models.PROTECT, related_name="parts")
    # Indexed by mes_part_order_step and mes_part_wo_step, which start with them.
    order = models.ForeignKey("mes_lite.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="parts",
                              db_index=False)
    work_order = models.ForeignKey("mes_lite.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="parts", db_index=False)
    # Its position in its work order (1, 2, ...) from when it was created: what sampling decisions
    # depend on, however parts move afterwards.
    sequence = models.PositiveIntegerField(null=True, blank=True)
    held_from_status = models.CharField(max_length=20, choices=PartStatus.choices, blank=True)
    # While on hold: why the part had the status it was held from (a quarantine's reason), given back
    # to it on release. ``status_reason`` meanwhile says why it is on hold.
    held_from_reason = models.TextField(blank=True)
    status_reason = models.TextField(blank=True)

    customer_company_path = "order__company"

    class Meta:
        ordering = ["serial_number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "part_type", "serial_number"],
                                               name="mes_part_unique_serial"),
                       models.UniqueConstraint(fields=["work_order", "sequence"], name="mes_part_unique_sequence")]
        # The progress of an order and the board of a work order count parts per step and status from
        # these indexes alone (index-only scans): tenant and archived_at are included for their filters.
        indexes = [
            models.Index(fields=["work_order", "current_step", "status"], include=["tenant", "archived_at"],
                         name="mes_part_wo_step"),
            models.Index(fields=["order", "current_step", "status"], include=["tenant", "archived_at"],
                         name="mes_part_order_step"),
            models.Index(fields=["serial_number"], name="mes_part_serial"),
        ]

    def __str__(self) -> str:
        return self.serial_number


class SerialCounter(TenantModel):
    """The last sequence number issued for one serial-number pattern (per tenant and prefix)."""

    key = models.CharField(max_length=200)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="mes_serialcounter_unique")]

    def __str__(self) -> str:
        return f"{self.key}: {self.last_value}"


class StepTransitionLog(TenantModel):
    """One move of one part: from which step and status to which, by whom, when, and why."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="transitions",
                             db_index=False)  # indexed by mes_transition_part
    action = models.CharField(max_length=20, choices=TransitionAction.choices)
    from_step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=20, choices=PartStatus.choices)
    to_status = models.CharField(max_length=20, choices=PartStatus.choices)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    transition_time = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["transition_time", "pk"]
        indexes = [models.Index(fields=["part", "transition_time"], name="mes_transition_part")]

    def __str__(self) -> str:
        return f"{self.part_id} {self.action} at {self.transition_time:%Y-%m-%d %H:%M}"


class StepMeasurement(TenantModel):
    """A value measured on a part at a step, against its definition, with in/out of spec decided."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="measurements")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    definition = models.ForeignKey("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+",
                                   db_index=False)  # indexed by mes_measurement_definition
    transition = models.ForeignKey(StepTransitionLog, on_delete=models.PROTECT, related_name="measurements")
    value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    passed = models.BooleanField(null=True)
    in_spec = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "pk"]
        indexes = [models.Index(fields=["definition", "recorded_at"], name="mes_measurement_definition")]

    def __str__(self) -> str:
        return f"{self.definition_id}={self.value if self.value is not None else self.passed}"

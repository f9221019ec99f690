"""Part types and their routes: processes (versioned), steps, the step graph, measurement definitions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.mes_lite.choices import EdgeKind, MeasurementKind, ProcessStatus


class PartType(TenantModel):
    """What is made: a part number at a revision (each revision is its own row)."""

    part_number = models.CharField(max_length=60)
    revision = models.CharField(max_length=20, default="A")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    max_rework_attempts = models.PositiveIntegerField(
        null=True, blank=True, default=3,
        help_text="How many times one part may be sent back for rework (empty: no limit). At the limit, a "
                  "nonconforming part can only be scrapped or accepted as it is.")

    class Meta:
        ordering = ["part_number", "revision"]
        constraints = [models.UniqueConstraint(fields=["tenant", "part_number", "revision"],
                                               name="mes_parttype_unique_revision")]

    def __str__(self) -> str:
        return f"{self.part_number} rev {self.revision} – {self.name}"


class Process(TenantModel):
    """A route for a part type. Versioned: a released process is never edited in place."""

    part_type = models.ForeignKey(PartType, on_delete=models.PROTECT, related_name="processes")
    name = models.CharField(max_length=200)
    route_version = models.PositiveIntegerField(default=1, help_text="1, 2, ...: each new version of the route.")
    status = models.CharField(max_length=20, choices=ProcessStatus.choices, default=ProcessStatus.DRAFT)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["part_type", "name", "-route_version"]
        verbose_name_plural = "processes"
        constraints = [models.UniqueConstraint(fields=["part_type", "name", "route_version"],
                                               name="mes_process_unique_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.route_version}"

    @property
    def is_editable(self) -> bool:
        return self.status == ProcessStatus.DRAFT


class Step(TenantModel):
    """One operation of a process. ``sequence`` orders them for display; edges say where a part goes."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="steps")
    sequence = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["process", "sequence"]
        constraints = [models.UniqueConstraint(fields=["process", "sequence"], name="mes_step_unique_sequence")]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.name}"


class StepEdge(TenantModel):
    """A move a part may make between two steps of one process: the route as a graph.

    MES Lite follows the ``next`` edges; rework loops and alternatives are edges of other kinds,
    so adding them later needs no change to the data.
    """

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="edges")
    from_step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="out_edges")
    to_step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="in_edges")
    kind = models.CharField(max_length=20, choices=EdgeKind.choices, default=EdgeKind.NEXT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_step", "to_step", "kind"], name="mes_stepedge_unique"),
            models.UniqueConstraint(fields=["from_step"], condition=models.Q(kind="next", archived_at__isnull=True),
                                    name="mes_stepedge_one_next"),
            models.CheckConstraint(condition=~models.Q(from_step=models.F("to_step")), name="mes_stepedge_no_self_loop"),
        ]

    def __str__(self) -> str:
        return f"{self.from_step_id} → {self.to_step_id} ({self.kind})"


class MeasurementDefinition(TenantModel):
    """What is measured at a step. NUMERIC: in spec when nominal - lower_tol <= value <= nominal + upper_tol
    (tolerances are deviations from nominal, both given as positive numbers). PASS_FAIL: in spec when passed."""

    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="measurement_definitions")
    sequence = models.PositiveIntegerField(default=1)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=MeasurementKind.choices, default=MeasurementKind.NUMERIC)
    unit = models.CharField(max_length=30, blank=True)
    nominal = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    upper_tol = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    lower_tol = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    required = models.BooleanField(default=True)
    equipment_type = models.ForeignKey("mes_lite.EquipmentType", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", help_text="Measured with equipment of this type: an "
                                       "advance that records it must name calibrated equipment of the type.")

    class Meta:
        ordering = ["step", "sequence", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="pass_fail") | (models.Q(nominal__isnull=False) & models.Q(upper_tol__gte=0)
                                                       & models.Q(lower_tol__gte=0)),
                name="mes_measurementdef_numeric_limits"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def lower_limit(self) -> Decimal | None:
        return None if self.nominal is None or self.lower_tol is None else self.nominal - self.lower_tol

    @property
    def upper_limit(self) -> Decimal | None:
        return None if self.nominal is None or self.upper_tol is None else self.nominal + self.upper_tol

    def in_spec(self, value) -> bool:
        if self.kind == MeasurementKind.PASS_FAIL:
            return bool(value)
        return self.lower_limit <= value <= self.upper_limit

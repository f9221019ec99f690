"""What happens to a part at a step, and what a step requires before a part may pass it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel
from traveler.mes_full.choices import ExecutionOutcome, RequirementKind


class StepExecution(TenantModel):
    """One visit of one part at one step: from its arrival (``started_at``: the move that brought it
    there, or its creation at the first step) to the advance that ended it. Written by the traveler's
    advance, in the same statements for every part of a bulk advance."""

    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="executions", db_index=False)
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    transition = models.OneToOneField("mes_lite.StepTransitionLog", on_delete=models.PROTECT, related_name="execution")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    equipment_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=ExecutionOutcome.choices)

    class Meta:
        ordering = ["finished_at", "pk"]
        indexes = [models.Index(fields=["part", "finished_at"], name="mes_full_execution_part"),
                   models.Index(fields=["step", "finished_at"], name="mes_full_execution_step")]

    def __str__(self) -> str:
        return f"{self.part_id} at {self.step_id}: {self.outcome}"


class TrainingType(TenantModel):
    """A qualification an operator must hold for some steps ("Torque wrench use", "Visual inspection")."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    validity_days = models.PositiveIntegerField(null=True, blank=True,
                                                help_text="How long a record stays current; empty: no expiry.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="mes_full_trainingtype_unique_name")]

    def __str__(self) -> str:
        return self.name


# Which target field each kind of requirement names (the others stay empty).
REQUIREMENT_TARGET = {
    RequirementKind.MEASUREMENT: "definition",
    RequirementKind.INSPECTION: None,
    RequirementKind.DOCUMENT: "document",
    RequirementKind.TRAINING: "training_type",
    RequirementKind.EQUIPMENT: "equipment_type",
}
_TARGETS = ("definition", "document", "training_type", "equipment_type")


def _target_check() -> Q:
    condition = Q()
    for kind, target in REQUIREMENT_TARGET.items():
        named = Q(**{f"{t}__isnull": t != target for t in _TARGETS})
        condition |= Q(kind=kind) & named
    return condition


class StepRequirement(TenantModel):
    """Something a step requires before a part may pass it; each kind is checked by a guard on the
    advance: a measurement recorded, an inspection signed off, the work instruction's released
    revision acknowledged by the operator, a current training record, equipment of a type (calibrated)."""

    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="requirements")
    kind = models.CharField(max_length=20, choices=RequirementKind.choices)
    definition = models.ForeignKey("mes_lite.MeasurementDefinition", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey("core.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    training_type = models.ForeignKey(TrainingType, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="requirements")
    equipment_type = models.ForeignKey("mes_lite.EquipmentType", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["step", "kind", "pk"]
        constraints = [models.CheckConstraint(condition=_target_check(), name="mes_full_requirement_target")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.step_id}"


class StepInspection(TenantModel):
    """An inspector's signed decision on one part at one step (pass or fail): what an inspection
    requirement, a sampling decision or a first piece waits for. With Quality installed, a quality
    report of the part at the step is recorded here too (``quality_report_id``)."""

    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="inspections", db_index=False)
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField()
    note = models.TextField(blank=True)
    quality_report_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["inspected_at", "pk"]
        indexes = [models.Index(fields=["part", "step", "inspected_at"], name="mes_full_inspection_part")]

    def __str__(self) -> str:
        return f"{self.part_id} at {self.step_id}: {'pass' if self.passed else 'fail'}"


class DocumentAcknowledgement(TenantModel):
    """A user read a released revision of a work instruction (once per revision)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revision = models.ForeignKey("core.DocumentRevision", on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [models.UniqueConstraint(fields=["user", "revision"], name="mes_full_ack_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.revision_id}"

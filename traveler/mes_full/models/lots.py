"""Lot acceptance by ANSI/ASQ Z1.4 single sampling: one inspection per lot (a work order at a step, or
a lot received from a supplier) with the plan it was judged by, and the switching state (normal,
tightened, reduced, discontinued) of each part type and supplier."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel


class LotStatus(models.TextChoices):
    PENDING = "pending", "Sample to inspect"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class Severity(models.TextChoices):
    """Z1.4's switching states; a lot is inspected on one of the first three."""

    NORMAL = "normal", "Normal"
    TIGHTENED = "tightened", "Tightened"
    REDUCED = "reduced", "Reduced"
    DISCONTINUED = "discontinued", "Discontinued"


class Z14SwitchingState(TenantModel):
    """Where Z1.4's switching rules stand for one part type from one supplier ("" for lots made in
    house) under one plan (inspection level and AQL). ``state`` is the statistics engine's own
    record (``traveler.spc.stats.Z14Switching.to_dict()``): only the engine moves it, one lot at a time.
    ``reduced_approved``: the responsible authority allows reduced inspection once the switching score
    is reached (Z1.4 8.3.3 c)."""

    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="+")
    supplier = models.CharField(max_length=200, blank=True, help_text="Empty: lots made in house.")
    level = models.CharField(max_length=5)
    aql = models.CharField(max_length=8)
    severity = models.CharField(max_length=15, choices=Severity.choices, default=Severity.NORMAL)
    state = models.JSONField(default=dict)
    reduced_approved = models.BooleanField(default=False, help_text="Reduced inspection may be entered once "
                                           "the switching score allows it.")
    lots = models.PositiveIntegerField(default=0)
    last_reason = models.CharField(max_length=300, blank=True, help_text="Why the state is what it is.")

    class Meta:
        ordering = ["part_type", "supplier", "level", "aql"]
        constraints = [models.UniqueConstraint(fields=["tenant", "part_type", "supplier", "level", "aql"],
                                               name="mes_full_z14state_unique")]

    def __str__(self) -> str:
        who = self.supplier or "in house"
        return f"Z1.4 level {self.level}, AQL {self.aql} ({who}): {self.get_severity_display().lower()}"


class LotInspection(TenantModel):
    """One lot judged by a Z1.4 single sampling plan: the lot (a work order's parts at a step, or a
    supplier's lot with its quantity), the plan at the time (level, AQL, switching state), the sample
    size and Ac/Re the statistics engine gave, the nonconforming units found, the decision, who and when.
    While a work order's latest lot at a step is not accepted, its parts there do not pass the step."""

    number = models.CharField(max_length=30)
    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="+")
    work_order = models.ForeignKey("mes_lite.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supplier = models.CharField(max_length=200, blank=True, help_text="Empty: a lot made in house.")
    supplier_company = models.ForeignKey("core.Company", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    supplier_lot_number = models.CharField(max_length=100, blank=True)
    lot_size = models.PositiveIntegerField()
    part_ids = ArrayField(models.BigIntegerField(), default=list, blank=True,
                          help_text="The lot's parts (a work order's lot): held if it is rejected.")
    switching_state = models.ForeignKey(Z14SwitchingState, on_delete=models.PROTECT, related_name="inspections")
    level = models.CharField(max_length=5)
    aql = models.CharField(max_length=8)
    severity = models.CharField(max_length=15, choices=Severity.choices)
    code_letter = models.CharField(max_length=2)
    plan_code_letter = models.CharField(max_length=2)
    sample_size = models.PositiveIntegerField()
    acceptance_number = models.PositiveIntegerField()
    rejection_number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=LotStatus.choices, default=LotStatus.PENDING)
    defects_found = models.PositiveIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=30, blank=True, help_text="The engine's decision: accept, reject, "
                                "accept_reinstate_normal.")
    severity_after = models.CharField(max_length=15, choices=Severity.choices, blank=True)
    switching_reason = models.CharField(max_length=300, blank=True)
    production_steady = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inspected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    inspected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="mes_full_lot_unique_number"),
            models.CheckConstraint(condition=Q(work_order__isnull=True, step__isnull=True)
                                   | Q(work_order__isnull=False, step__isnull=False), name="mes_full_lot_at_a_step"),
            models.CheckConstraint(condition=Q(work_order__isnull=False) | ~Q(supplier=""),
                                   name="mes_full_lot_has_a_source"),
        ]
        indexes = [models.Index(fields=["work_order", "step", "created_at"], name="mes_full_lot_wo_step")]

    def __str__(self) -> str:
        return self.number

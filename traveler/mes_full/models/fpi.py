"""First-piece inspection: which steps need one and for what scope, and the record of each first piece.

A first piece validates a set-up: the first part of a scope at the step is designated, the other parts
of the scope wait at the step until its inspection passed (or the first-piece inspection was waived
through a signed approval). Scopes are always within one work order, then per shift, per equipment or
per operator (``FPIScope``). Shifts are fixed hours of the day on the step's requirement (``shift_hours``,
local time): a shift runs from one boundary to the next, the last one past midnight.

An ``FPIRecord`` is what an AS9102 first-article form will hang on (a form names its record); there are
no forms yet.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel
from traveler.mes_full.choices import FPIScope, FPIStatus


def default_shift_hours() -> list[int]:
    return [6, 14, 22]


class FPIRequirement(TenantModel):
    """A step needs a first-piece inspection, for one scope."""

    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="fpi_requirements")
    scope = models.CharField(max_length=20, choices=FPIScope.choices, default=FPIScope.WORK_ORDER)
    shift_hours = ArrayField(models.PositiveSmallIntegerField(), default=default_shift_hours, blank=True,
                             help_text="Hours of the day (0-23, local time) at which a shift starts; per shift scope.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["step", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "step"], condition=Q(archived_at__isnull=True),
                                               name="mes_full_fpirequirement_one_per_step")]

    def __str__(self) -> str:
        return f"First piece at {self.step_id} ({self.get_scope_display().lower()})"


class FPIRecord(TenantModel):
    """The first piece of one scope at one step: the designated part and what became of it. One current
    record per step and scope key (a unique index: two first parts at once cannot both be designated);
    a record that is started over stays, no longer current."""

    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=20, choices=FPIScope.choices)
    scope_key = models.CharField(max_length=120, help_text="Which scope: work order, and shift, equipment or operator.")
    scope_label = models.CharField(max_length=300, blank=True)
    work_order = models.ForeignKey("mes_lite.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="first_pieces",
                             help_text="The designated first piece.")
    fpi_status = models.CharField(max_length=20, choices=FPIStatus.choices, default=FPIStatus.PENDING)
    current = models.BooleanField(default=True)
    designated_at = models.DateTimeField()
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    inspection = models.ForeignKey("mes_full.StepInspection", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    waiver_reason = models.TextField(blank=True)
    waiver_request = models.ForeignKey("core.ApprovalRequest", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    waived_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-designated_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "step", "scope_key"], condition=Q(current=True),
                                               name="mes_full_fpirecord_one_current")]
        indexes = [models.Index(fields=["step", "fpi_status"], name="mes_full_fpi_step_status")]

    def __str__(self) -> str:
        return f"First piece {self.part_id} at {self.step_id} ({self.scope_key}): {self.fpi_status}"

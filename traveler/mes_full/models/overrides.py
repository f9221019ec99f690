"""Overrides: a second person's signed permission for a blocked part to pass one kind of block."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.mes_full.choices import BlockKind, OverrideLimit, OverrideStatus


class StepOverride(TenantModel):
    """A request to let a part (or N parts, or the parts of its work order until a time) pass one kind
    of block (``BlockKind``) at one step; it acts once a second person approved it with a signature.
    ``uses`` counts the parts it let through (changed under a row lock)."""

    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="overrides")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    work_order = models.ForeignKey("mes_lite.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    block_kind = models.CharField(max_length=30, choices=BlockKind.choices)
    refusal = models.TextField(blank=True, help_text="What blocked the part when the override was requested.")
    reason = models.TextField()
    limit = models.CharField(max_length=20, choices=OverrideLimit.choices, default=OverrideLimit.ONE_PART)
    max_parts = models.PositiveIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    override_status = models.CharField(max_length=20, choices=OverrideStatus.choices, default=OverrideStatus.REQUESTED)
    uses = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["step", "override_status"], name="mes_full_override_step")]

    def __str__(self) -> str:
        return f"Override of {self.get_block_kind_display().lower()} for {self.part_id} at {self.step_id}"


class StepOverrideUse(TenantModel):
    """One part let through by an override (once per part: N parts means N different parts)."""

    override = models.ForeignKey(StepOverride, on_delete=models.PROTECT, related_name="used_by")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="override_uses")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    refusal = models.TextField(blank=True)
    used_at = models.DateTimeField()

    class Meta:
        ordering = ["used_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["override", "part"], name="mes_full_override_use_once")]
        indexes = [models.Index(fields=["part", "used_at"], name="mes_full_override_use_part")]

    def __str__(self) -> str:
        return f"{self.override_id} used for {self.part_id}"

"""Signals (a run-rule violation on a characteristic with an active baseline) and the reaction plan
that decides what a signal does."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.spc.choices import SignalSeverity, SignalStatus


class ReactionPlan(TenantModel):
    """What a signal of one characteristic does. A definition without a row reacts with
    ``traveler.spc.services.signals.DEFAULT_PLAN``; saving the plan makes the row."""

    definition = models.OneToOneField("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+")
    notify_roles = models.JSONField(default=list, blank=True, help_text="Role codes notified of a new signal.")
    notify_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    hold_parts = models.BooleanField(default=False, help_text="Hold the parts of the subgroups involved.")
    hold_step = models.BooleanField(default=False, help_text="Stop new parts at the step until a signed "
                                    "acknowledgement releases it.")
    open_nonconformance = models.BooleanField(default=False, help_text="Open a nonconformance (quality module).")
    open_capa = models.BooleanField(default=False, help_text="Open a corrective action (quality module).")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", help_text="Who owns the nonconformance or CAPA opened.")
    severity = models.CharField(max_length=10, choices=SignalSeverity.choices, default=SignalSeverity.MAJOR)
    instructions = models.TextField(blank=True, help_text="What the people notified are to do.")

    class Meta:
        ordering = ["definition"]

    def __str__(self) -> str:
        return f"Reaction plan {self.definition_id}"


class SPCSignal(TenantModel):
    """One run-rule violation: the run of consecutive subgroups (``first_key`` to ``last_key``) where
    one rule flagged the chart, drawn against ``baseline``. Detected once: a later detection of the
    same run extends it instead of raising another."""

    definition = models.ForeignKey("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+")
    baseline = models.ForeignKey("spc.SPCBaseline", on_delete=models.PROTECT, related_name="signals")
    step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text="The step where the measurements were recorded.")
    rule = models.CharField(max_length=20, help_text="The run rule's code, e.g. N1; LIMIT2 for the range chart.")
    description = models.CharField(max_length=300)
    first_key = models.BigIntegerField(help_text="The first subgroup of the run (its first measurement's id).")
    last_key = models.BigIntegerField()
    points = models.PositiveIntegerField(default=1, help_text="Subgroups in the run.")
    values = models.JSONField(default=list, help_text="The flagged subgroups' plotted values.")
    part_ids = models.JSONField(default=list, help_text="The parts of the subgroups involved.")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    status = models.CharField(max_length=15, choices=SignalStatus.choices, default=SignalStatus.NEW)
    severity = models.CharField(max_length=10, choices=SignalSeverity.choices, default=SignalSeverity.MAJOR)
    actions = models.JSONField(default=list, blank=True, help_text="What the reaction plan did.")
    links = models.JSONField(default=list, blank=True, help_text="Records opened for it: [{kind, id, label}].")
    step_held = models.BooleanField(default=False)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_comment = models.TextField(blank=True)
    investigated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    investigated_at = models.DateTimeField(null=True, blank=True)
    cause = models.TextField(blank=True, help_text="What the investigation found.")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-first_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["baseline", "rule", "first_key"], name="spc_signal_once"),
        ]
        indexes = [
            models.Index(fields=["definition", "status"], name="spc_signal_definition"),
            models.Index(fields=["status", "step"], name="spc_signal_step"),
        ]

    def __str__(self) -> str:
        return f"SPC signal {self.pk} ({self.rule})"


class SPCSettings(TenantModel):
    """A tenant's SPC settings (one row per tenant; none means the defaults)."""

    cpk_threshold = models.DecimalField(max_digits=6, decimal_places=3, default=1.33,
                                        help_text="Capability below this Cpk is flagged (1.33 by default).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="spc_settings_one_per_tenant")]

    def __str__(self) -> str:
        return "SPC settings"

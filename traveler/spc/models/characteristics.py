"""Characteristics (a numeric measurement definition of the traveler, charted) and their baselines:
control limits computed from a phase I range, reviewed, then frozen with a signature."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.spc.choices import BaselineStatus, ChartType, Subgrouping


class Characteristic(TenantModel):
    """How one numeric measurement definition is charted. A definition without a row is charted with
    the defaults of ``traveler.spc.services.characteristics.DEFAULTS``; saving the settings makes the row."""

    definition = models.OneToOneField("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+")
    chart_type = models.CharField(max_length=10, choices=ChartType.choices, default=ChartType.IMR)
    subgroup_size = models.PositiveSmallIntegerField(default=1, help_text="Parts per subgroup (consecutive parts); "
                                                     "1 for an I-MR chart.")
    subgrouping = models.CharField(max_length=20, choices=Subgrouping.choices, default=Subgrouping.CONSECUTIVE)
    window_minutes = models.PositiveIntegerField(default=60, help_text="Length of a time window (per time window).")
    shift_start = models.TimeField(default=time(6, 0), help_text="When the first shift of the day starts (per shift).")
    shift_hours = models.PositiveSmallIntegerField(default=8, help_text="Length of a shift (per shift).")
    rules = models.CharField(max_length=200, default="nelson",
                             help_text="Run rules: a set (nelson, western_electric) or codes, e.g. N1,N2,N5.")
    show_capability = models.BooleanField(default=True)
    spec_lower = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True,
                                     help_text="Lower specification for capability (empty: the definition's).")
    spec_upper = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True,
                                     help_text="Upper specification for capability (empty: the definition's).")
    target = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True,
                                 help_text="Target value (Cpm), if any.")

    class Meta:
        ordering = ["definition"]

    def __str__(self) -> str:
        return f"Characteristic {self.definition_id}"


class SPCBaseline(TenantModel):
    """Control limits of one characteristic, computed from a phase I range. A draft is reviewed;
    freezing it (signed, meaning "approved") makes it the active baseline and supersedes the one
    before, with a reason. Limits never change after freezing: a new baseline is computed instead."""

    view_permission = "spc.view_characteristic"  # who reads charts reads their baselines

    definition = models.ForeignKey("mes_lite.MeasurementDefinition", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=BaselineStatus.choices, default=BaselineStatus.DRAFT)
    chart_type = models.CharField(max_length=10, choices=ChartType.choices)
    subgroup_size = models.PositiveSmallIntegerField()
    subgrouping = models.CharField(max_length=20, choices=Subgrouping.choices)
    # The phase I range: measurements recorded in [range_from, range_to), of these work orders (empty:
    # any), minus the subgroups excluded (each {"key": first measurement id, "reason": ...}).
    range_from = models.DateTimeField(null=True, blank=True)
    range_to = models.DateTimeField(null=True, blank=True)
    work_order_ids = models.JSONField(default=list, blank=True)
    excluded = models.JSONField(default=list, blank=True)
    sample_count = models.PositiveIntegerField(default=0, help_text="Measurements in phase I.")
    subgroup_count = models.PositiveIntegerField(default=0)
    center = models.DecimalField(max_digits=24, decimal_places=10)
    ucl = models.DecimalField(max_digits=24, decimal_places=10)
    lcl = models.DecimalField(max_digits=24, decimal_places=10)
    sigma = models.DecimalField(max_digits=24, decimal_places=10)
    secondary_center = models.DecimalField(max_digits=24, decimal_places=10)
    secondary_ucl = models.DecimalField(max_digits=24, decimal_places=10)
    secondary_lcl = models.DecimalField(max_digits=24, decimal_places=10)
    notes = models.TextField(blank=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    frozen_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "definition"], condition=models.Q(status="active"),
                                    name="spc_one_active_baseline"),
        ]
        indexes = [models.Index(fields=["definition", "status"], name="spc_baseline_definition")]

    def __str__(self) -> str:
        return f"Baseline {self.pk} ({self.get_status_display().lower()})"

    def engine_baseline(self) -> dict[str, float]:
        """The frozen center line and process sigma, as the statistics engine takes them: it draws each
        subgroup's limits from them, so subgroups of unequal size (per work order, window or shift)
        get their exact limits; ``ucl``/``lcl`` are those of the baseline's own subgroup size."""
        return {"center": float(self.center), "sigma": float(self.sigma)}

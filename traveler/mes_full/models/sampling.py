"""Per-part sampling: which parts of a work order are inspected at a step, and the record of every
decision (its inputs, so that it can be recomputed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel
from traveler.mes_full.choices import SamplingMode, SamplingRuleKind


class SamplingRuleSet(TenantModel):
    """How parts of a part type are sampled: at ``step``, at every step of ``process`` (no step), or at
    every step of the part type's routes (neither); the most specific active rule set of a step
    decides there. Its rules and fallback settings are versioned (``SamplingRuleSetVersion``):
    a change makes a new version, ``revision`` names the current one, and decisions record theirs."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="+")
    process = models.ForeignKey("mes_lite.Process", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField(default=1, editable=False, help_text="The current version's number.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    modified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "part_type", "process", "step"], nulls_distinct=False,
                                    condition=Q(archived_at__isnull=True), name="mes_full_ruleset_one_per_scope"),
        ]

    def __str__(self) -> str:
        return self.name


class SamplingRuleSetVersion(TenantModel):
    """One version of a rule set's rules and fallback settings; never changed once written. Fallback:
    after a defect the fallback rules decide for the next ``fallback_parts`` parts, or until
    ``fallback_passes`` consecutive inspections pass (whichever comes first), then the primary rules."""

    ruleset = models.ForeignKey(SamplingRuleSet, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    fallback_parts = models.PositiveIntegerField(null=True, blank=True)
    fallback_passes = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="What changed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["ruleset", "number"]
        constraints = [models.UniqueConstraint(fields=["ruleset", "number"], name="mes_full_rulesetversion_unique")]

    def __str__(self) -> str:
        return f"{self.ruleset_id} v{self.number}"


class SamplingRule(TenantModel):
    """One rule of a version of a rule set. ``count`` is the N of every Nth, first N, last N and exact
    count; ``percent`` the share of percentage and random rules; ``seed`` makes a random rule's picks
    reproducible; a ``z14_lot`` rule (``inspection_level``, ``aql``) plans lot acceptance and takes no
    part in per-part decisions."""

    version = models.ForeignKey(SamplingRuleSetVersion, on_delete=models.PROTECT, related_name="rules")
    mode = models.CharField(max_length=10, choices=SamplingMode.choices, default=SamplingMode.PRIMARY)
    kind = models.CharField(max_length=20, choices=SamplingRuleKind.choices)
    position = models.PositiveIntegerField(default=1, help_text="Order among the rules of its mode.")
    count = models.PositiveIntegerField(null=True, blank=True)
    percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    inspection_level = models.CharField(max_length=5, blank=True)
    aql = models.CharField(max_length=6, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["version", "mode", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(count__isnull=True) | Q(count__gt=0), name="mes_full_rule_count_positive"),
            models.CheckConstraint(condition=Q(percent__isnull=True) | (Q(percent__gt=0) & Q(percent__lte=100)),
                                   name="mes_full_rule_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.mode})"


class SamplingTriggerState(TenantModel):
    """Whether a rule set's fallback rules decide in one work order, and for how long still. Changed
    only under a row lock, so that two concurrent advances never both take the same "next part"."""

    ruleset = models.ForeignKey(SamplingRuleSet, on_delete=models.PROTECT, related_name="+")
    work_order = models.ForeignKey("mes_lite.WorkOrder", on_delete=models.PROTECT, related_name="+")
    fallback_active = models.BooleanField(default=False)
    parts_remaining = models.PositiveIntegerField(null=True, blank=True,
                                                  help_text="Parts the fallback rules still decide (no limit: empty).")
    consecutive_passes = models.PositiveIntegerField(default=0)
    triggered_by = models.ForeignKey("mes_lite.Part", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", help_text="The part whose defect started the fallback.")
    triggered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ruleset", "work_order"]
        constraints = [models.UniqueConstraint(fields=["ruleset", "work_order"], name="mes_full_trigger_unique")]

    def __str__(self) -> str:
        return f"{self.ruleset_id} / {self.work_order_id}: {'fallback' if self.fallback_active else 'primary'}"


class SamplingAuditLog(TenantModel):
    """One sampling decision for one part at one step, with every input it was computed from (the rule
    set's version, the part's position and its work order's quantity, the seed, primary or fallback):
    ``sampling_replay`` recomputes it. Written once, never changed."""

    append_only = True

    ruleset = models.ForeignKey(SamplingRuleSet, on_delete=models.PROTECT, related_name="+")
    ruleset_version = models.ForeignKey(SamplingRuleSetVersion, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField()
    rule = models.ForeignKey(SamplingRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="The rule that selected the part (none: no rule did).")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+", db_index=False)
    work_order = models.ForeignKey("mes_lite.WorkOrder", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    mode = models.CharField(max_length=10, choices=SamplingMode.choices)
    selected = models.BooleanField()
    triggered_by = models.ForeignKey("mes_lite.Part", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["part", "step", "ruleset"], name="mes_full_samplinglog_once")]

    def __str__(self) -> str:
        return f"{self.part_id} at {self.step_id}: {'sample' if self.selected else 'skip'} ({self.mode})"


class SamplingAnalytics(TenantModel):
    """How a rule set sampled one work order: kept up to date in the statements that record decisions
    and inspections (so the analytics page reads one row per work order, not the log)."""

    ruleset = models.ForeignKey(SamplingRuleSet, on_delete=models.PROTECT, related_name="+")
    work_order = models.ForeignKey("mes_lite.WorkOrder", on_delete=models.PROTECT, related_name="+")
    parts_total = models.PositiveIntegerField(default=0)
    parts_sampled = models.PositiveIntegerField(default=0)
    parts_fallback = models.PositiveIntegerField(default=0, help_text="Decisions made by the fallback rules.")
    defects_found = models.PositiveIntegerField(default=0)
    planned_rate = models.FloatField(null=True, blank=True,
                                     help_text="The share of the work order the primary rules select.")

    class Meta:
        ordering = ["ruleset", "work_order"]
        verbose_name_plural = "sampling analytics"
        constraints = [models.UniqueConstraint(fields=["ruleset", "work_order"], name="mes_full_analytics_unique")]

    @property
    def actual_rate(self) -> float | None:
        return self.parts_sampled / self.parts_total if self.parts_total else None

    def __str__(self) -> str:
        return f"{self.ruleset_id} / {self.work_order_id}"

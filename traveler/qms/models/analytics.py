"""Derived data kept for the quality dashboard: each part's first departure from each step."""

from __future__ import annotations

from django.db import models

from traveler.core.models.base import TenantManager, UnscopedManager


class FirstDeparture(models.Model):
    """The first row of the traveler's transition log that leaves a step for a part (by time, then id):
    first-pass yield counts these (``services/analytics.first_pass_yield``).

    Written only by the database: the trigger ``qms_first_departures`` on mes_lite's transition log
    (migration 0007) keeps one row per (tenant, step, part) in the same transaction as the log row
    (a back-dated row replaces a later one). Not a ``TenantModel``: it has no life of its own (no
    archive, no version) and is not audited, because every row copies a log row that is audited, and
    the table can be rebuilt from the log at any time (the migration's backfill). Row-level security
    applies as to every table with a ``tenant_id`` column."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)  # leads both indexes
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+", db_index=False)
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+", db_index=False)
    log = models.ForeignKey("mes_lite.StepTransitionLog", on_delete=models.CASCADE, related_name="+",
                            db_index=False)  # a log row is never deleted; the trigger would replace it
    departed_at = models.DateTimeField()
    action = models.CharField(max_length=20)

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        base_manager_name = "unscoped"
        constraints = [models.UniqueConstraint(fields=["tenant", "step", "part"], name="qms_first_departure_unique")]
        indexes = [models.Index(fields=["tenant", "departed_at", "step"], name="qms_first_departure_period",
                                include=["action"])]

    def __str__(self) -> str:
        return f"{self.part_id} left {self.step_id} first at {self.departed_at:%Y-%m-%d %H:%M}: {self.action}"


class FirstPassCount(models.Model):
    """How many first departures (``parts``) from a step fell in one hour (UTC, ``hour`` its start),
    and how many of them were a pass (``passed``: an advance or a completion, ``FIRST_PASS_ACTIONS``).

    Written only by the database: the trigger ``qms_first_pass_counts`` on ``qms_firstdeparture``
    (migration 0007) adds what every insert, replacement or removal of a first departure changes, in
    the same transaction. First-pass yield adds these up for the whole hours of its period and counts
    the first departures themselves in the part-hours at its ends (a time zone half an hour off UTC).
    Not audited, like ``FirstDeparture``: rebuilt from it at any time."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)  # leads the unique index
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+", db_index=False)
    hour = models.DateTimeField()
    parts = models.IntegerField()
    passed = models.IntegerField()

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        base_manager_name = "unscoped"
        constraints = [models.UniqueConstraint(fields=["tenant", "hour", "step"], name="qms_first_pass_count_unique")]

    def __str__(self) -> str:
        return f"{self.step_id} at {self.hour:%Y-%m-%d %H}h: {self.passed} of {self.parts}"

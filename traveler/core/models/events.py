from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it reports."""

    tenant_id = models.BigIntegerField(null=True, db_index=True)
    name = models.CharField(max_length=150, db_index=True)
    payload = models.JSONField()
    actor_id = models.BigIntegerField(null=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class Job(models.Model):
    """A unit of background work in the PostgreSQL-backed queue."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        DEAD = "dead", "Dead (gave up)"

    name = models.CharField(max_length=150)
    args = models.JSONField(default=dict)
    tenant = models.ForeignKey("core.Tenant", null=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    run_at = models.DateTimeField()
    locked_by = models.CharField(max_length=100, blank=True, default="")
    locked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["run_at"], name="core_job_ready", condition=models.Q(status="queued")
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class PeriodicSchedule(models.Model):
    """When each registered periodic job is next due; one row per job, claimed by one worker."""

    name = models.CharField(max_length=150, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M}"

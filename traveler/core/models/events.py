from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it reports."""

    tenant_id = models.BigIntegerField(null=True, db_index=True)
    name = models.CharField(max_length=150, db_index=True)
    payload = models.JSONField()
    actor_id = models.BigIntegerField(null=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["occurred_at"], name="core_outbox_occurred")]

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
    # A running job belongs to its worker until then; the worker renews it while the job runs, and
    # once it has passed the job is due again (the worker stopped).
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["run_at"], name="core_job_ready", condition=models.Q(status="queued")
            ),
            models.Index(
                fields=["lease_expires_at"], name="core_job_leased", condition=models.Q(status="running")
            ),
            models.Index(
                fields=["finished_at"], name="core_job_succeeded", condition=models.Q(status="succeeded")
            ),
            # The deliveries an event still waits for, so that the purge keeps the event.
            models.Index(
                Cast(KeyTextTransform("event_id", "args"), models.BigIntegerField()),
                name="core_job_undelivered",
                condition=models.Q(name="core.deliver_event") & ~models.Q(status="succeeded"),
            ),
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


class JobEffect(models.Model):
    """An effect of a job that must not happen twice, recorded under its key by ``queue.once``
    in the transaction that makes the effect."""

    key = models.CharField(max_length=200, unique=True)
    job_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key

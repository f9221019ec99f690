"""Rollbacks: a part moved back to an earlier step of its route, with a reason and an approval."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from traveler.core.models import TenantModel


class RollbackStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    REJECTED = "rejected", "Rejected"
    COMPLETED = "completed", "Completed"


class StepRollback(TenantModel):
    """A request to move ``part`` back from ``from_step`` to ``to_step`` (an earlier step of its route).
    It goes through an approval (template type "step_rollback"); the approval's outcome moves the part
    (``transition``: the log row of the move) or rejects the request. The passages it undoes stay in
    the part's history: ``superseded_transition_ids`` are their log rows, and the measurements recorded
    with them count as superseded (the measurements themselves never change)."""

    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="rollbacks")
    from_step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    to_step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=RollbackStatus.choices, default=RollbackStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField()
    approval_request_id = models.BigIntegerField(null=True, blank=True)
    approval_notes = models.TextField(blank=True, help_text="The approval's outcome: who decided, and why.")
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    transition = models.OneToOneField("mes_lite.StepTransitionLog", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="rollback")
    superseded_transition_ids = ArrayField(models.BigIntegerField(), default=list, blank=True,
                                           help_text="The log rows of the passages the rollback undid.")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["part", "status"], name="mes_full_rollback_part")]

    def __str__(self) -> str:
        return f"Rollback #{self.pk}"

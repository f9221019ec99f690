"""Who is trained in what, until when: the records a training requirement of a step checks."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from traveler.core.models import TenantModel
from traveler.mes_full.choices import TrainingStatus


class TrainingRecord(TenantModel):
    """One person's completed training of one type: completed on, by which trainer, with what evidence,
    and until when it stays current (``expires_on``: the last day it counts; empty: no expiry). A record
    whose certificate goes through an approval counts only once it is approved (``status`` active)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    training_type = models.ForeignKey("mes_full.TrainingType", on_delete=models.PROTECT, related_name="records")
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True,
                                  help_text="The last day the record counts; empty: it does not expire.")
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    trainer_name = models.CharField(max_length=200, blank=True, help_text="An external trainer or school.")
    evidence = models.ForeignKey("core.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="The certificate or attendance record.")
    status = models.CharField(max_length=20, choices=TrainingStatus.choices, default=TrainingStatus.ACTIVE)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-completed_on", "-pk"]
        indexes = [models.Index(fields=["user", "training_type"], name="mes_full_training_user_type"),
                   models.Index(fields=["expires_on"], name="mes_full_training_expires")]
        constraints = [models.CheckConstraint(condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("completed_on")),
                                              name="mes_full_training_expires_after_completion")]

    def __str__(self) -> str:
        return f"{self.training_type} – {self.user}"

    def current(self, today: datetime.date) -> bool:
        return (self.status == TrainingStatus.ACTIVE and self.archived_at is None and self.completed_on <= today
                and (self.expires_on is None or self.expires_on >= today))

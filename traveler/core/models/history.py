from __future__ import annotations

from django.db import models


class History(models.Model):
    """One change to one audited row, written only by the database's audit triggers.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE on this table, and the app role
    may only read it. ``row_hash`` chains each row to the previous change of the same record, so
    ``audit_verify`` can detect rows changed, removed or inserted out of band.
    """

    class Action(models.TextChoices):
        CREATE = "I", "Created"
        UPDATE = "U", "Updated"
        DELETE = "D", "Deleted"

    tenant_id = models.BigIntegerField(null=True)
    table_name = models.CharField(max_length=100)
    record_id = models.CharField(max_length=64)
    action = models.CharField(max_length=1, choices=Action.choices)
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)
    actor_id = models.BigIntegerField(null=True)
    reason = models.TextField(blank=True, default="")
    occurred_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, default="")
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "history"
        indexes = [models.Index(fields=["table_name", "record_id", "id"], name="core_history_record")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.table_name} #{self.record_id}"

    @property
    def changes(self) -> dict:
        """Field -> (old, new) for the fields this change touched."""
        old, new = self.old or {}, self.new or {}
        skip = {"updated_at", "version"}
        return {
            k: (old.get(k), new.get(k))
            for k in sorted(set(old) | set(new))
            if k not in skip and old.get(k) != new.get(k)
        }

"""Notifications: notices to one user (in the app, by e-mail) and each user's choice of channels.

Neither table is audited. A notification is a message about a record, not a record: the change it
reports (an approval, a review) is in that record's history already, and notifications are written
at a volume (every approver, every reminder) that would multiply the audit trail for no evidence.
A channel preference is a personal setting, not a quality record. Both are their tenant's rows
(row-level security, the tenant-scoped manager), and a user only ever reads their own.
"""

from __future__ import annotations

from django.db import models

from traveler.core.models.base import TenantManager, UnscopedManager


class Notification(models.Model):
    """One notice to one user, of a registered kind (``registry.notification_kinds``).

    ``in_app``: shown in the bell and the list (the recipient's preference when it was sent);
    ``email``: an e-mail was queued, and ``emailed_at`` says when it went out. A row whose
    ``dedupe_key`` is not empty is made at most once per recipient: the same notice is never sent twice.
    """

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    recipient = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    dedupe_key = models.CharField(max_length=200, blank=True, default="")  # "": none
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        base_manager_name = "unscoped"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "recipient", "dedupe_key"],
                                    condition=~models.Q(dedupe_key=""),
                                    name="core_notification_unique_dedupe"),
        ]
        indexes = [
            # The bell: a user's unread notices in the app.
            models.Index(fields=["recipient", "tenant"], name="core_notification_unread",
                         condition=models.Q(in_app=True, read_at__isnull=True)),
            models.Index(fields=["recipient", "tenant", "-created_at"], name="core_notification_list"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind and one channel, in one tenant; no row: the kind's default."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=100)
    channel = models.CharField(max_length=20)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()
    unscoped = UnscopedManager()

    class Meta:
        base_manager_name = "unscoped"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "kind", "channel"],
                                    name="core_notificationpreference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel}: {'on' if self.enabled else 'off'}"

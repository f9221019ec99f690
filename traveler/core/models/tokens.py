from __future__ import annotations

from django.db import models


class ApiToken(models.Model):
    """A bearer token for the API, bound to one user in one tenant. Only its hash is stored."""

    audited = True
    audit_exclude = ("key_hash",)

    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="api_tokens")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, default="API token")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class LoginAttempt(models.Model):
    """Failed sign-ins, counted per email for throttling and lockout."""

    email = models.CharField(max_length=254, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.email} {'ok' if self.succeeded else 'failed'} at {self.at:%Y-%m-%d %H:%M}"

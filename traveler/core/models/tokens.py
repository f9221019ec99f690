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
        constraints = [
            # A client finds its token again by name: one unrevoked token per name, user and tenant.
            models.UniqueConstraint(fields=["user", "tenant", "name"], condition=models.Q(revoked_at__isnull=True),
                                    name="core_apitoken_unique_live_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class LoginAttempt(models.Model):
    """Every sign-in attempt, counted per client address and per email for throttling.

    Successful attempts are kept too: an address from which an account signed in before is a
    *known client* of that account, and passes the account's lockout with the right password.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in"
        SIGNATURE = "signature", "Electronic signature"

    email = models.CharField(max_length=254, db_index=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.SIGN_IN)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.email} {'ok' if self.succeeded else 'failed'} at {self.at:%Y-%m-%d %H:%M}"


class PasswordLink(models.Model):
    """A single-use link, sent by e-mail, that sets a user's password; only its hash is stored.

    ``reset``: an administrator asked for it. ``invite``: the user was invited with a new account
    and sets their first password (which also accepts the invitation).
    """

    class Purpose(models.TextChoices):
        RESET = "reset", "Password reset"
        INVITE = "invite", "Invitation"

    audited = True
    audit_exclude = ("key_hash",)

    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="password_links")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.user_id}"

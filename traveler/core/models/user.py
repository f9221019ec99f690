from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from traveler.core.models.base import TenantModel


class UserManager(BaseUserManager):
    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person who signs in with an email address; belongs to tenants through memberships."""

    audited = True
    audit_exclude = ("password",)

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    is_system_admin = models.BooleanField(
        default=False, help_text="Platform administrator: manages tenants; not a tenant role."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    # What Django's auth machinery asks of a user model.
    @property
    def is_staff(self) -> bool:
        return self.is_system_admin

    @property
    def is_superuser(self) -> bool:
        return False

    def has_perm(self, perm, obj=None) -> bool:  # Django admin API; Traveler uses core.access
        return False

    def has_module_perms(self, app_label) -> bool:
        return False


class Company(TenantModel):
    """An organisation the tenant deals with: a customer, a supplier, or the tenant itself."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        SUPPLIER = "supplier", "Supplier"
        INTERNAL = "internal", "Internal"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CUSTOMER)
    description = models.TextField(blank=True)

    customer_company_path = "pk"

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="core_company_unique_name")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in one tenant: roles, and for customer users the company they belong to.

    A membership an administrator adds is an *invitation* until the user accepts it
    (``accepted_at``): until then it grants nothing and the tenant is not among the user's tenants.
    """

    audited = True

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    # May see and download ITAR and EAR documents of this tenant; set by a Tenant Admin with a reason
    # (services.users.member_set_export_clearance), so the history shows who cleared whom and why.
    export_cleared = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="core_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None

    @property
    def label(self) -> str:
        """How the tenant names this member: an invitee only by the e-mail it was sent to."""
        return self.user.email if self.is_pending else str(self.user)


class MembershipRole(models.Model):
    audited = True

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="role_links")
    role = models.ForeignKey("core.Role", on_delete=models.CASCADE, related_name="membership_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "role"], name="core_membershiprole_unique")]

    def __str__(self) -> str:
        return f"{self.membership}: {self.role}"

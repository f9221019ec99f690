from __future__ import annotations

from rest_framework import serializers

from traveler.core.api.base import ChangeInput, RecordSerializer
from traveler.core.models import ApiToken, Company, Job, Membership, OutboxEvent, Role


class CompanySerializer(RecordSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "kind", "description", "version", "created_at", "updated_at", "archived_at"]


class CompanyInput(ChangeInput, serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["name", "kind", "description", "version", "reason"]
        validators = []  # uniqueness is checked by the service, per tenant


class TokenRequest(serializers.Serializer):
    email = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})
    tenant = serializers.SlugField(required=False, help_text="The tenant's slug; needed if you belong to several.")
    name = serializers.CharField(required=False, max_length=100,
                                 help_text="Your name for the token (default 'API token'); one live token per name.")
    days = serializers.IntegerField(required=False, min_value=1, max_value=366)
    replace = serializers.BooleanField(required=False, default=False,
                                       help_text="Rotate: revoke your live token of this name and issue a new one.")


class TokenRotate(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=366)


class PasswordChange(serializers.Serializer):
    current_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant.slug")
    tenant_name = serializers.CharField(source="tenant.name")
    invited_by = serializers.CharField(source="invited_by.full_name", default=None)
    roles = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class TokenSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "tenant", "created_at", "expires_at", "revoked_at", "last_used_at", "active"]

    def get_active(self, obj) -> bool:
        from django.utils import timezone

        return obj.revoked_at is None and obj.expires_at > timezone.now()


class TokenIssued(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once: store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class MemberSerializer(serializers.ModelSerializer):
    """A member; an invitation not yet accepted shows only the e-mail it was sent to."""

    email = serializers.EmailField(source="user.email")
    user_id = serializers.SerializerMethodField()
    full_name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    company = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "full_name", "roles", "company", "is_active", "status",
                  "created_at", "accepted_at"]

    def get_user_id(self, obj) -> int | None:
        return None if obj.is_pending else obj.user_id  # an old id would tell that the account existed

    def get_full_name(self, obj) -> str | None:
        return None if obj.is_pending else obj.user.full_name

    def get_status(self, obj) -> str:
        return "invited" if obj.is_pending else "active" if obj.is_active else "inactive"

    def get_roles(self, obj) -> list[str]:
        return sorted(link.role.code for link in obj.role_links.all())


class MemberInput(serializers.Serializer):
    """An invitation: the person sets their own password (new account) or accepts (existing one)."""

    email = serializers.EmailField()
    full_name = serializers.CharField(max_length=200, help_text="Used for a new account; an existing one keeps its name.")
    roles = serializers.ListField(child=serializers.SlugField())
    company = serializers.IntegerField(required=False, allow_null=True)


class MemberChange(serializers.Serializer):
    roles = serializers.ListField(child=serializers.SlugField(), required=False)
    company = serializers.IntegerField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True)


class RoleSerializer(serializers.ModelSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = ["id", "code", "name", "role_type", "description", "is_seeded", "permissions", "version"]

    def get_permissions(self, obj) -> list[str]:
        return sorted(g.permission for g in obj.grants.all() if g.archived_at is None)


class RolePermissionsInput(serializers.Serializer):
    permissions = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField(required=False, allow_blank=True)


class ModuleSerializer(serializers.Serializer):
    label = serializers.CharField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    switchable = serializers.BooleanField()
    requires = serializers.ListField(child=serializers.CharField())


class ModuleSwitchInput(serializers.Serializer):
    enabled = serializers.BooleanField()


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "name", "args", "status", "attempts", "max_attempts", "run_at", "last_error",
                  "created_at", "finished_at"]


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxEvent
        fields = ["id", "name", "payload", "actor_id", "occurred_at"]

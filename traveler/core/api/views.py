from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from traveler.core.access import check
from traveler.core.api import serializers as s
from traveler.core.api.base import RecordServices, RecordWriteViewSet
from traveler.core.api.errors import ErrorSerializer
from traveler.core.auth import client_ip
from traveler.core.errors import InvalidInput, NotAuthenticated
from traveler.core.middleware import error_body
from traveler.core.models import ApiToken, Company, Job, Membership, OutboxEvent, Role, Tenant
from traveler.core.queue import retry_job
from traveler.core.registry import registry
from traveler.core.services import auth as auth_services
from traveler.core.services.companies import company_archive, company_create, company_update
from traveler.core.services.roles import role_set_permissions
from traveler.core.services.tenants import enabled_modules, tenant_module_set
from traveler.core.services.users import (
    invitation_accept,
    invitation_decline,
    invitation_roles,
    invitations_for,
    member_invite,
    member_password_reset,
    member_set_active,
    member_set_roles,
)
from traveler.core.tenancy import tenant_context


class TokenThrottle(AnonRateThrottle):
    """Per client address, as ``client_ip`` finds it (X-Forwarded-For only from trusted proxies)."""

    rate = "30/min"

    def get_ident(self, request):
        return client_ip(request._request) or "unknown"


@extend_schema(request=s.TokenRequest, tags=["auth"], responses={
    201: s.TokenIssued,
    401: OpenApiResponse(ErrorSerializer, description="Wrong e-mail or password (the shared error shape)."),
})
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def token_obtain(request):
    """Exchange email and password for a named API token (shown once).

    One live token per name: asking again for a name in use answers 409 unless ``replace`` is
    true, which rotates it. A wrong email or password answers 401.
    """
    ser = s.TokenRequest(data=request.data)
    ser.is_valid(raise_exception=True)
    d = ser.validated_data
    try:
        user = auth_services.login_check(email=d["email"], password=d["password"], ip=client_ip(request._request),
                                         request=request._request)
    except NotAuthenticated as exc:
        return Response(error_body(exc.status, exc.code, exc.message, exc.fields), status=exc.status,
                        headers={"WWW-Authenticate": 'Bearer realm="api"'})
    tenants = auth_services.tenants_for(user)
    if d.get("tenant"):
        tenant = next((t for t in tenants if t.slug == d["tenant"]), None)
        if tenant is None:
            raise InvalidInput(f"You are not a member of a tenant {d['tenant']!r}.", fields={"tenant": ["not a member"]})
    elif len(tenants) == 1:
        tenant = tenants[0]
    elif not tenants:
        hint = " Accept your invitation first: sign in on the web and open Invitations." \
            if invitations_for(user) else ""
        raise InvalidInput("Your account is not a member of any tenant." + hint, fields={"email": ["no tenant"]})
    else:
        raise InvalidInput(
            "You belong to several tenants: say which one with 'tenant' ("
            + ", ".join(t.slug for t in tenants) + ").", fields={"tenant": ["required"]})
    with tenant_context(tenant, actor=user):
        token, raw = auth_services.token_issue(user=user, tenant=tenant, name=d.get("name") or "API token",
                                               days=d.get("days"), replace=d["replace"])
    data = s.TokenIssued(token).data
    data["token"] = raw
    return Response(data, status=status.HTTP_201_CREATED)


token_obtain.cls.throttle_classes = [TokenThrottle]


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your API tokens. DELETE revokes one."""

    serializer_class = s.TokenSerializer
    permission_classes = [IsAuthenticated]
    queryset = ApiToken.objects.none()

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).select_related("tenant")

    @extend_schema(responses={200: s.TokenSerializer})
    def destroy(self, request, pk=None):
        if not str(pk).isdigit():
            raise NotFound()
        token = auth_services.token_revoke(user=request.user, token_id=int(pk))
        return Response(s.TokenSerializer(token).data)

    @extend_schema(request=s.TokenRotate, responses={201: s.TokenIssued})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """Replace this token by a new one with the same name (the old value stops working)."""
        if not str(pk).isdigit():
            raise NotFound()
        ser = s.TokenRotate(data=request.data)
        ser.is_valid(raise_exception=True)
        token, raw = auth_services.token_rotate(user=request.user, token_id=int(pk), days=ser.validated_data.get("days"))
        data = s.TokenIssued(token).data
        data["token"] = raw
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema(request=s.PasswordChange, responses={204: None}, tags=["auth"])
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def password_change(request):
    """Change your own password; the current one must be given."""
    ser = s.PasswordChange(data=request.data)
    ser.is_valid(raise_exception=True)
    auth_services.password_change(user=request.user, current_password=ser.validated_data["current_password"],
                                  new_password=ser.validated_data["new_password"])
    if request.auth is None:  # signed in with the session: keep this session signed in
        update_session_auth_hash(request._request, request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your open invitations to other tenants: accept or decline each."""

    serializer_class = s.InvitationSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None
    queryset = Membership.objects.none()

    def _data(self, m):
        return {"id": m.pk, "tenant": m.tenant, "invited_by": m.invited_by, "roles": invitation_roles(m),
                "created_at": m.created_at}

    def list(self, request):
        return Response([s.InvitationSerializer(self._data(m)).data for m in invitations_for(request.user)])

    @extend_schema(request=None, responses={200: s.InvitationSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        if not str(pk).isdigit():
            raise NotFound()
        m = invitation_accept(user=request.user, membership_id=int(pk))
        return Response(s.InvitationSerializer(self._data(m)).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        if not str(pk).isdigit():
            raise NotFound()
        invitation_decline(user=request.user, membership_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], responses={200: None})
@api_view(["GET"])
def me(request):
    """Who you are, in which tenant, with which roles and permissions."""
    a = request._request.access
    return Response({
        "id": request.user.pk, "email": request.user.email, "full_name": request.user.full_name,
        "tenant": {"id": request._request.tenant.pk, "slug": request._request.tenant.slug,
                   "name": request._request.tenant.name},
        "roles": sorted(a.role_codes), "role_type": a.role_type, "permissions": sorted(a.permissions),
        "company": a.company_id,
        "modules": sorted(enabled_modules(request._request.tenant)),
    })


class CompanyFilter(filters.FilterSet):
    class Meta:
        model = Company
        fields = {"name": ["exact", "icontains"], "kind": ["exact"]}


class CompanyViewSet(RecordWriteViewSet):
    model = Company
    queryset = Company.objects.all()
    serializer_class = s.CompanySerializer
    input_serializer_class = s.CompanyInput
    permission_prefix = "core"
    filterset_class = CompanyFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    services = RecordServices(create=company_create, update=company_update, archive=company_archive)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The users of this tenant, with their roles."""

    serializer_class = s.MemberSerializer
    permission_map = {"list": "core.view_user", "retrieve": "core.view_user", "create": "core.manage_users",
                      "partial_update": "core.manage_users", "reset_password": "core.manage_users"}
    queryset = Membership.objects.none()

    def get_queryset(self):
        return (Membership.objects.filter(tenant=self.request._request.tenant)
                .select_related("user").prefetch_related("role_links__role").order_by("user__full_name"))

    @extend_schema(request=s.MemberInput, responses={201: s.MemberSerializer})
    def create(self, request):
        """Invite someone by e-mail. The answer is the same whether the address has an account or not."""
        ser = s.MemberInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        company = _company(d.get("company"))
        m = member_invite(email=d["email"], full_name=d["full_name"], roles=d["roles"], company=company)
        return Response(s.MemberSerializer(self.get_queryset().get(pk=m.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        """E-mail this member a single-use link that sets a new password."""
        membership = self.get_object()
        check(request._request.access, request.user, "core.manage_users", membership)
        member_password_reset(membership=membership)
        return Response({"detail": f"A password link was e-mailed to {membership.user.email}."},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.MemberChange, responses={200: s.MemberSerializer})
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        check(request._request.access, request.user, "core.manage_users", membership)
        ser = s.MemberChange(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        with transaction.atomic():
            if "roles" in d or "company" in d:
                roles = d.get("roles") or [link.role.code for link in membership.role_links.all()]
                company = _company(d["company"]) if "company" in d else membership.company
                member_set_roles(membership=membership, roles=roles, company=company, reason=d.get("reason"))
            if "is_active" in d:
                member_set_active(membership=membership, active=d["is_active"], reason=d.get("reason"))
        return Response(s.MemberSerializer(self.get_queryset().get(pk=membership.pk)).data)


def _company(pk):
    if pk is None:
        return None
    company = Company.objects.filter(pk=pk, archived_at__isnull=True).first()
    if company is None:
        raise InvalidInput(f"No company with id {pk}.", fields={"company": ["not found"]})
    return company


class RoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The roles of this tenant and their permissions. PUT .../permissions/ changes them."""

    serializer_class = s.RoleSerializer
    queryset = Role.objects.all()
    permission_map = {"list": "core.view_role", "retrieve": "core.view_role", "permissions": "core.manage_roles"}

    def get_queryset(self):
        return Role.objects.filter(archived_at__isnull=True).prefetch_related("grants").order_by("name")

    @extend_schema(request=s.RolePermissionsInput, responses={200: s.RoleSerializer})
    @action(detail=True, methods=["put"])
    def permissions(self, request, pk=None):
        role = self.get_object()
        ser = s.RolePermissionsInput(data=request.data)
        ser.is_valid(raise_exception=True)
        role_set_permissions(role=role, permissions=ser.validated_data["permissions"],
                             reason=ser.validated_data.get("reason"))
        return Response(s.RoleSerializer(self.get_queryset().get(pk=role.pk)).data)


@extend_schema(responses={200: None}, tags=["core"])
@api_view(["GET"])
def permission_list(request):
    """Every permission the installed modules declare."""
    return Response([
        {"code": p.code, "label": p.label, "module": p.module, "default_roles": list(p.default_roles)}
        for p in sorted(registry.permissions.values(), key=lambda p: p.code)
    ])


class ModuleViewSet(viewsets.ViewSet):
    """The installed modules and whether each is on for this tenant."""

    permission_map = {"list": "core.view_role", "partial_update": "core.manage_modules"}
    serializer_class = s.ModuleSerializer

    def _rows(self, tenant: Tenant):
        on = enabled_modules(tenant)
        return [{"label": m.label, "name": str(m.verbose_name), "enabled": m.label in on,
                 "switchable": m.switchable, "requires": list(m.requires)} for m in registry.modules.values()]

    @extend_schema(responses=s.ModuleSerializer(many=True))
    def list(self, request):
        return Response(self._rows(request._request.tenant))

    @extend_schema(request=s.ModuleSwitchInput, responses=s.ModuleSerializer(many=True),
                   parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="The module's label.")])
    def partial_update(self, request, pk=None):
        ser = s.ModuleSwitchInput(data=request.data)
        ser.is_valid(raise_exception=True)
        tenant_module_set(tenant=request._request.tenant, module=pk, enabled=ser.validated_data["enabled"])
        return Response(self._rows(request._request.tenant))


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs of this tenant; dead ones can be retried."""

    serializer_class = s.JobSerializer
    queryset = Job.objects.none()
    permission_map = {"list": "core.view_jobs", "retrieve": "core.view_jobs", "retry": "core.manage_jobs"}
    filterset_fields = ["status", "name"]

    def get_queryset(self):
        return Job.objects.filter(tenant=self.request._request.tenant).order_by("-id")

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = self.get_object()
        try:
            retry_job(job.pk)
        except ValueError as exc:
            raise InvalidInput(str(exc), fields={"status": [job.status]}) from exc
        job.refresh_from_db()
        return Response(s.JobSerializer(job).data)


class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The domain events of this tenant, newest first."""

    serializer_class = s.EventSerializer
    queryset = OutboxEvent.objects.none()
    permission_map = {"list": "core.view_events"}
    filterset_fields = ["name"]

    def get_queryset(self):
        return OutboxEvent.objects.filter(tenant_id=self.request._request.tenant.pk).order_by("-id")



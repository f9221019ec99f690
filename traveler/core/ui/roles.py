"""Roles and what each may do: a permission matrix grouped by the module that declares them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import check
from traveler.core.errors import TravelerError
from traveler.core.models import Membership, Role, RolePermission
from traveler.core.registry import registry
from traveler.core.services.roles import role_set_permissions
from traveler.core.services.tenants import enabled_modules
from traveler.core.ui.forms import RolePermissionsForm
from traveler.core.ui.generic import ShellView, add_service_error


def permission_groups(granted: set[str], tenant) -> list[dict]:
    """Every declared permission, grouped by module (in installation order), marked granted or not."""
    on = enabled_modules(tenant)
    by_module: dict[str, list] = {}
    for p in sorted(registry.permissions.values(), key=lambda p: p.code):
        by_module.setdefault(p.module, []).append({"code": p.code, "label": p.label, "granted": p.code in granted})
    groups = []
    for label, module in registry.modules.items():
        if label in by_module:
            perms = by_module.pop(label)
            groups.append({"label": label, "name": str(module.verbose_name), "enabled": label in on,
                           "permissions": perms, "granted": sum(p["granted"] for p in perms)})
    for label, perms in by_module.items():  # declared by a module that is not installed as such
        groups.append({"label": label, "name": label, "enabled": True, "permissions": perms,
                       "granted": sum(p["granted"] for p in perms)})
    return groups


class RoleList(ShellView):
    permission = "core.view_role"

    def get(self, request):
        roles = (Role.objects.filter(archived_at__isnull=True)
                 .annotate(n_grants=Count("grants", filter=Q(grants__archived_at__isnull=True), distinct=True),
                           n_members=Count("membership_links", filter=Q(membership_links__membership__is_active=True),
                                           distinct=True))
                 .order_by("name"))
        return render(request, "core/role_list.html", {"roles": roles, "n_permissions": len(registry.permissions)})


class RoleDetail(ShellView):
    """A role's permission matrix; read-only without core.manage_roles."""

    permission = "core.view_role"

    def page(self, role: Role, granted: set[str], form=None, status=200):
        members = (Membership.objects.filter(tenant=self.request.tenant, is_active=True, role_links__role=role)
                   .select_related("user").order_by("user__full_name"))
        return render(self.request, "core/role_detail.html", {
            "role": role, "groups": permission_groups(granted, self.request.tenant), "members": members,
            "form": form or RolePermissionsForm(), "can_manage": self.request.access.has("core.manage_roles"),
        }, status=status)

    def get(self, request, pk):
        role = get_object_or_404(Role.objects.filter(archived_at__isnull=True), pk=pk)
        granted = set(RolePermission.objects.filter(role=role, archived_at__isnull=True)
                      .values_list("permission", flat=True))
        return self.page(role, granted)

    def post(self, request, pk):
        check(request.access, request.user, "core.manage_roles")
        role = get_object_or_404(Role.objects.filter(archived_at__isnull=True), pk=pk)
        form = RolePermissionsForm(request.POST)
        wanted = set(request.POST.getlist("permissions"))
        if not form.is_valid():
            return self.page(role, wanted, form, 400)
        try:
            role_set_permissions(role=role, permissions=form.cleaned_data["permissions"],
                                 reason=form.cleaned_data["reason"] or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(role, wanted, form, exc.status)
        messages.success(request, f"Permissions of {role.name} saved.")
        return HttpResponseRedirect(reverse("core:role-detail", args=[role.pk]))


urlpatterns = [
    path("roles/", RoleList.as_view(), name="role-list"),
    path("roles/<int:pk>/", RoleDetail.as_view(), name="role-detail"),
]

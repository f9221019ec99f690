from __future__ import annotations

from rest_framework import permissions

from traveler.core.access import object_denial
from traveler.core.modules import module_for
from traveler.core.services.tenants import module_enabled


class TenantMember(permissions.BasePermission):
    """Signed in, working in a tenant they belong to, in a module switched on for that tenant.

    Views name the permission each action needs in ``permission_map`` (action -> code); actions
    not in the map need only membership.
    """

    message = "You are not a member of this tenant."

    def has_permission(self, request, view) -> bool:
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated("Sign in or send an API token (Authorization: Bearer <token>).")
        tenant = getattr(request._request, "tenant", None)
        access = getattr(request._request, "access", None)
        if tenant is None or access is None or access.role_type is None:
            return False
        module = module_for(type(view))
        if module is not None and not module_enabled(tenant, module.label):
            self.message = f"The {module.verbose_name} module is switched off for {tenant.name}."
            return False
        perm = self.required(view)
        if perm and not access.has(perm):
            self.message = f"You do not have the permission {perm}."
            return False
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        perm = self.required(view)
        if perm and request.method not in permissions.SAFE_METHODS:
            reason = object_denial(request._request.access, request.user, perm, obj)
            if reason:
                self.message = reason
                return False
        return True

    @staticmethod
    def required(view) -> str | None:
        mapping = getattr(view, "permission_map", None) or {}
        action = getattr(view, "action", None) or request_method_action(view)
        return mapping.get(action)


def request_method_action(view) -> str | None:
    return {"GET": "list", "POST": "create"}.get(getattr(view.request, "method", ""), None)

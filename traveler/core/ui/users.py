"""Administration of the tenant's users: their memberships, roles, company and whether they are active."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers

from traveler.core.access import check, object_denial
from traveler.core.errors import TravelerError
from traveler.core.models import Membership
from traveler.core.services.users import (
    member_invite,
    member_password_reset,
    member_set_active,
    member_set_roles,
    pending_or_member,
)
from traveler.core.ui.display import format_datetime
from traveler.core.ui.forms import MemberAddForm, MemberRolesForm
from traveler.core.ui.generic import PAGE_SIZE, ShellView, add_service_error


def memberships(request):
    return (Membership.objects.filter(tenant=request.tenant).select_related("user", "company")
            .prefetch_related("role_links__role").order_by("user__full_name", "user__email"))


def member_roles(m: Membership) -> list:
    return sorted((link.role for link in m.role_links.all() if link.role.archived_at is None), key=lambda r: r.name)


class UserList(ShellView):
    permission = "core.view_user"

    def get(self, request):
        qs = memberships(request)
        q = request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(pending_or_member(q))
        status = request.GET.get("status", "")
        if status == "inactive":
            qs = qs.filter(is_active=False)
        elif status == "invited":
            qs = qs.filter(accepted_at__isnull=True)
        elif status != "all":
            qs = qs.filter(is_active=True)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"m": m, "roles": member_roles(m), "added": format_datetime(m.created_at)} for m in page.object_list]
        context = {"rows": rows, "page": page, "q": q, "status": status,
                   "can_manage": request.access.has("core.manage_users")}
        partial = getattr(request, "htmx", False) and request.htmx.target == "record-results"
        response = render(request, "core/_user_results.html" if partial else "core/user_list.html", context)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response


class UserAdd(ShellView):
    permission = "core.manage_users"

    def page(self, form, status=200):
        return render(self.request, "core/user_add.html", {"form": form}, status=status)

    def get(self, request):
        return self.page(MemberAddForm())

    def post(self, request):
        form = MemberAddForm(request.POST)
        if not form.is_valid():
            return self.page(form, 400)
        d = form.cleaned_data
        try:
            m = member_invite(email=d["email"], full_name=d["full_name"], roles=d["roles"], company=d["company"])
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(form, exc.status)
        # The same answer whether the address has an account or not.
        messages.success(request, f"Invitation e-mailed to {m.user.email}. They join {request.tenant.name} "
                                  "once they accept it.")
        return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))


class UserDetail(ShellView):
    """A member's page; with core.manage_users, their roles and company can be changed here."""

    permission = "core.view_user"

    def page(self, m: Membership, form=None, status=200):
        access, user = self.request.access, self.request.user
        can_manage = access.has("core.manage_users")
        denial = object_denial(access, user, "core.manage_users", m) if can_manage else None
        if form is None:
            form = MemberRolesForm(initial={"roles": [r.code for r in member_roles(m)], "company": m.company_id})
        return render(self.request, "core/user_detail.html", {
            "m": m, "roles": member_roles(m), "form": form, "can_manage": can_manage and not denial,
            "denial": denial, "added": format_datetime(m.created_at),
            "can_clear": access.has("core.set_export_clearance") and not m.is_pending and m.user_id != user.pk,
        }, status=status)

    def get(self, request, pk):
        return self.page(get_object_or_404(memberships(request), pk=pk))

    def post(self, request, pk):
        m = get_object_or_404(memberships(request), pk=pk)
        check(request.access, request.user, "core.manage_users", m)
        form = MemberRolesForm(request.POST)
        if not form.is_valid():
            return self.page(m, form, 400)
        d = form.cleaned_data
        try:
            member_set_roles(membership=m, roles=d["roles"], company=d["company"], reason=d["reason"] or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(m, form, exc.status)
        messages.success(request, f"Roles of {m.label} saved.")
        return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))


class UserPasswordReset(ShellView):
    permission = "core.manage_users"
    http_method_names = ["post"]

    def post(self, request, pk):
        m = get_object_or_404(memberships(request), pk=pk)
        check(request.access, request.user, "core.manage_users", m)
        try:
            member_password_reset(membership=m)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"A link to set a new password was e-mailed to {m.user.email}. It works once, "
                                      f"for {settings.TRAVELER_PASSWORD_RESET_HOURS} hours.")
        return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))


class UserSetActive(ShellView):
    permission = "core.manage_users"
    http_method_names = ["post"]

    def post(self, request, pk):
        m = get_object_or_404(memberships(request), pk=pk)
        check(request.access, request.user, "core.manage_users", m)
        active = request.POST.get("active") == "true"
        reason = request.POST.get("reason", "").strip() or None
        if not active and not reason:
            messages.error(request, "Give a reason for deactivating this user: it is kept in the history.")
            return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))
        try:
            with transaction.atomic():
                member_set_active(membership=m, active=active, reason=reason)
        except TravelerError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))
        messages.success(request, f"{m.label} {'reactivated' if active else 'deactivated'}.")
        return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))


urlpatterns = [
    path("users/", UserList.as_view(), name="user-list"),
    path("users/new/", UserAdd.as_view(), name="user-create"),
    path("users/<int:pk>/", UserDetail.as_view(), name="user-detail"),
    path("users/<int:pk>/active/", UserSetActive.as_view(), name="user-active"),
    path("users/<int:pk>/reset-password/", UserPasswordReset.as_view(), name="user-reset-password"),
]

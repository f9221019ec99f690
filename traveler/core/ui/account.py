"""The signed-in user's own account: password change and invitations; and the page an e-mailed
password link opens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from traveler.core.errors import TravelerError
from traveler.core.middleware import SESSION_TENANT
from traveler.core.services.auth import password_change, password_link_check, password_link_use
from traveler.core.services.users import invitation_accept, invitation_decline, invitation_roles, invitations_for
from traveler.core.ui.display import format_datetime
from traveler.core.ui.forms import PasswordChangeForm, PasswordSetForm
from traveler.core.ui.generic import ShellView, add_service_error


@method_decorator(sensitive_post_parameters(), name="dispatch")
class PasswordChange(ShellView):
    tenant_required = False

    def page(self, form, status=200):
        return render(self.request, "core/password_change.html", {"form": form}, status=status)

    def get(self, request):
        return self.page(PasswordChangeForm())

    def post(self, request):
        form = PasswordChangeForm(request.POST)
        if not form.is_valid():
            return self.page(form, 400)
        d = form.cleaned_data
        try:
            password_change(user=request.user, current_password=d["current_password"], new_password=d["new_password"])
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(form, exc.status)
        update_session_auth_hash(request, request.user)  # other sessions of this user end; this one stays
        messages.success(request, "Your password has been changed.")
        return HttpResponseRedirect(reverse("core:password-change"))


@method_decorator([sensitive_post_parameters(), never_cache], name="dispatch")
class PasswordSet(View):
    """Opened from an e-mailed link: a used, expired or unknown link says so."""

    def page(self, raw, form, error=None, status=200):
        return render(self.request, "core/password_set.html", {"form": form, "error": error}, status=status)

    def get(self, request, raw):
        try:
            password_link_check(raw)
        except TravelerError as exc:
            return self.page(raw, None, exc.message, 410 if exc.fields.get("link") in (["used"], ["expired"]) else 404)
        return self.page(raw, PasswordSetForm())

    def post(self, request, raw):
        form = PasswordSetForm(request.POST)
        if not form.is_valid():
            return self.page(raw, form, None, 400)
        try:
            user = password_link_use(raw=raw, password=form.cleaned_data["password"])
        except TravelerError as exc:
            if "link" in exc.fields:
                return self.page(raw, None, exc.message, 410)
            add_service_error(form, exc)
            return self.page(raw, form, None, exc.status)
        messages.success(request, f"Your password is set, {user.full_name}. Sign in with it now.")
        return HttpResponseRedirect(reverse("core:signin"))


class Invitations(ShellView):
    """Invitations to tenants: a membership counts only once its user accepts it here (or via the API)."""

    tenant_required = False

    def get(self, request):
        rows = [{"m": m, "roles": invitation_roles(m), "sent": format_datetime(m.created_at)}
                for m in invitations_for(request.user)]
        return render(request, "core/invitations.html", {"rows": rows})

    def post(self, request):
        pk = request.POST.get("invitation", "")
        decision = request.POST.get("decision")
        try:
            if not pk.isdigit() or decision not in ("accept", "decline"):
                raise TravelerError("Choose an invitation to accept or decline.")
            if decision == "accept":
                m = invitation_accept(user=request.user, membership_id=int(pk))
                request.session[SESSION_TENANT] = m.tenant_id
                messages.success(request, f"You joined {m.tenant.name}.")
                return HttpResponseRedirect(reverse("core:dashboard"))
            invitation_decline(user=request.user, membership_id=int(pk))
            messages.info(request, "Invitation declined.")
        except TravelerError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("core:invitations"))


urlpatterns = [
    path("account/password/", PasswordChange.as_view(), name="password-change"),
    path("password/set/<str:raw>/", PasswordSet.as_view(), name="password-set"),
    path("invitations/", Invitations.as_view(), name="invitations"),
]

"""The signed-in user's API tokens in the current tenant. A new token's value is shown once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from traveler.core.errors import TravelerError
from traveler.core.models import ApiToken
from traveler.core.services.auth import TOKEN_PREFIX, token_issue, token_revoke
from traveler.core.ui.display import EMPTY, format_datetime
from traveler.core.ui.forms import TokenForm
from traveler.core.ui.generic import ShellView, add_service_error


def token_rows(request) -> list[dict]:
    now = timezone.now()
    rows = []
    for t in ApiToken.objects.filter(user=request.user, tenant=request.tenant).order_by("-created_at"):
        state = "revoked" if t.revoked_at else "expired" if t.expires_at <= now else "active"
        rows.append({"t": t, "state": state, "shown": f"{TOKEN_PREFIX}_{t.prefix}_…",
                     "created": format_datetime(t.created_at), "expires": format_datetime(t.expires_at),
                     "last_used": format_datetime(t.last_used_at) if t.last_used_at else "Never",
                     "revoked": format_datetime(t.revoked_at) if t.revoked_at else EMPTY})
    return rows


class TokenList(ShellView):
    """Any member may hold tokens; they act with the member's own permissions."""

    def page(self, form, raw=None, issued=None, status=200):
        response = render(self.request, "core/token_list.html", {
            "form": form, "rows": token_rows(self.request), "raw": raw, "issued": issued}, status=status)
        add_never_cache_headers(response)  # the page may carry a raw token
        return response

    def get(self, request):
        return self.page(TokenForm())

    def post(self, request):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        try:
            token, raw = token_issue(user=request.user, tenant=request.tenant, name=form.cleaned_data["name"],
                                     days=form.cleaned_data["days"], replace=form.cleaned_data["replace"])
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(form, status=exc.status)
        # Rendered, not redirected: the raw value must never be stored, not even in the session.
        return self.page(TokenForm(), raw=raw, issued=token)


class TokenRevoke(ShellView):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            token = token_revoke(user=request.user, token_id=pk)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Token “{token.name}” revoked: it no longer opens the API.")
        return HttpResponseRedirect(reverse("core:token-list"))


urlpatterns = [
    path("tokens/", TokenList.as_view(), name="token-list"),
    path("tokens/<int:pk>/revoke/", TokenRevoke.as_view(), name="token-revoke"),
]

"""Override pages: the inbox (awaiting my approval, mine, active), requesting one for a blocked part,
approving (signed with the password; never one's own) or rejecting it, and the overrides on a part's
traveler."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from traveler.core.access import check, visible
from traveler.core.auth import client_ip
from traveler.core.errors import InvalidInput, TravelerError
from traveler.core.services.signatures import manifestations
from traveler.core.ui.generic import ShellView
from traveler.mes_full.models import StepOverride
from traveler.mes_full.services import overrides as svc
from traveler.mes_full.ui.station import back
from traveler.mes_lite.models import Part

VIEW, REQUEST, APPROVE = "mes_full.view_stepoverride", "mes_full.request_override", "mes_full.approve_override"


def _when(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise InvalidInput("Give the time as YYYY-MM-DD HH:MM.", fields={"expires_at": ["not a time"]})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _int(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def part_panel(request, part: Part) -> str:
    """On a part's traveler: the overrides requested for it and those that let it through."""
    rows = svc.overrides_of_part(part)
    if not rows:
        return ""
    return render_to_string("mes_full/overrides/part_panel.html", {"rows": rows}, request=request)


class Inbox(ShellView):
    permission = VIEW

    def get(self, request):
        boxes = svc.overrides_inbox(user=request.user, may_approve=request.access.has(APPROVE))
        return render(request, "mes_full/overrides/inbox.html", {**boxes, "may_approve": request.access.has(APPROVE)})


class OverrideDetail(ShellView):
    permission = VIEW

    def get(self, request, pk):
        o = get_object_or_404(StepOverride.objects.select_related("part", "step", "requested_by", "approved_by"), pk=pk)
        get_object_or_404(visible(Part.objects.all(), request.access), pk=o.part_id)
        return render(request, "mes_full/overrides/detail.html", {
            "o": o, "active": svc.is_active(o), "uses": list(o.used_by.select_related("part").order_by("used_at")),
            "signatures": manifestations(o),
            "may_approve": request.access.has(APPROVE) and o.requested_by_id != request.user.pk
            and o.override_status == "requested",
            "may_withdraw": o.requested_by_id == request.user.pk and o.override_status == "requested"})


class OverrideRequest(ShellView):
    """POST: request an override of one kind of block for a part (from the station's panel)."""

    permission = REQUEST
    http_method_names = ["post"]

    def post(self, request, pk):
        part = get_object_or_404(visible(Part.objects.all(), request.access), pk=pk)
        p = request.POST
        try:
            o = svc.override_request(part=part, block_kind=p.get("block_kind", ""), reason=p.get("reason", ""),
                                     user=request.user, limit=p.get("limit") or "one_part",
                                     max_parts=_int(p.get("max_parts", "")), expires_at=_when(p.get("expires_at", "")),
                                     refusal=p.get("refusal", ""))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Override requested for {part.serial_number}: a second person approves it "
                                      f"(request #{o.pk}).")
        return back(request, reverse("mes_full:override-inbox"))


class OverrideDecide(ShellView):
    """POST: approve (signed with the password) or reject an override request; the requester withdraws."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        o = get_object_or_404(StepOverride.objects.all(), pk=pk)
        get_object_or_404(visible(Part.objects.all(), request.access), pk=o.part_id)
        try:
            if action == "approve":
                check(request.access, request.user, APPROVE)
                o = svc.override_approve(override=o, user=request.user, password=request.POST.get("password", ""),
                                         note=request.POST.get("note", ""), version=_int(request.POST.get("version")),
                                         ip=client_ip(request))
            elif action == "reject":
                if o.requested_by_id != request.user.pk:
                    check(request.access, request.user, APPROVE)
                o = svc.override_reject(override=o, user=request.user, note=request.POST.get("note", ""))
            else:
                messages.error(request, f"“{action}” is not something done to an override.")
                return back(request, reverse("mes_full:override-detail", args=[o.pk]))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Override #{o.pk}: {o.get_override_status_display().lower()}.")
        return back(request, reverse("mes_full:override-detail", args=[o.pk]))


urlpatterns = [
    path("overrides/", Inbox.as_view(), name="override-inbox"),
    path("overrides/<int:pk>/", OverrideDetail.as_view(), name="override-detail"),
    path("overrides/<int:pk>/<str:action>/", OverrideDecide.as_view(), name="override-decide"),
    path("parts/<int:pk>/override/", OverrideRequest.as_view(), name="override-request"),
]

"""SPC signal pages: the list (new ones first to act on), one signal with its points, parts and what
its reaction plan did, and its handling: acknowledge (signed with your password), investigate, close."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from traveler.core.access import check, visible
from traveler.core.auth import client_ip
from traveler.core.errors import TravelerError
from traveler.core.ui.generic import RecordDetailView, RecordListView, ShellView, record_urls
from traveler.mes_lite.models import Part
from traveler.spc.models import SPCSignal
from traveler.spc.services import signals as svc


class SignalList(RecordListView):
    model = SPCSignal
    columns = ["__str__", "definition", "step", "description", "status", "severity", "points", "first_at", "step_held"]
    search_fields = ["description", "rule", "definition__label"]
    filter_fields = ["status", "severity"]

    def get_queryset(self):
        return super().get_queryset().select_related("definition", "step")

    def filtered(self):
        qs = super().filtered()
        definition = self.request.GET.get("definition", "")
        return qs.filter(definition_id=int(definition)) if definition.isdigit() else qs


class SignalDetail(RecordDetailView):
    model = SPCSignal
    template_name = "spc/spcsignal_detail.html"
    fields = ["definition", "step", "baseline", "rule", "description", "severity", "status", "points", "first_at",
              "last_at", "step_held"]

    def get_queryset(self):
        return super().get_queryset().select_related("definition", "step", "baseline", "acknowledged_by",
                                                     "investigated_by", "closed_by")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            parts = {p.pk: p for p in visible(Part.objects.filter(pk__in=obj.part_ids), self.request.access)}
            handle = self.request.access.has("spc.handle_signal")
            context.update({
                "parts": [parts[i] for i in obj.part_ids if i in parts],
                "can_acknowledge": handle and obj.status in svc.TRANSITIONS["acknowledge"][0],
                "can_investigate": handle and obj.status in svc.TRANSITIONS["investigate"][0],
                "can_close": handle and obj.status in svc.TRANSITIONS["close"][0],
                "chart_url": _chart_url(obj),
            })
        return context


def _chart_url(signal: SPCSignal) -> str | None:
    from django.urls import NoReverseMatch

    try:
        return reverse("spc:characteristic", args=[signal.definition_id])
    except NoReverseMatch:
        return None


class SignalAct(ShellView):
    """POST: acknowledge (with the password), investigate (the cause) or close (why) a signal."""

    http_method_names = ["post"]
    permission = "spc.handle_signal"

    def post(self, request, pk, action):
        check(request.access, request.user, "spc.view_spcsignal")
        signal = get_object_or_404(visible(SPCSignal.objects.all(), request.access), pk=pk)
        version = request.POST.get("version", "")
        version = int(version) if version.isdigit() else None
        try:
            if action == "acknowledge":
                signal = svc.signal_acknowledge(signal=signal, user=request.user, password=request.POST.get("password", ""),
                                                comment=request.POST.get("comment", ""), version=version,
                                                ip=client_ip(request))
            elif action == "investigate":
                signal = svc.signal_investigate(signal=signal, cause=request.POST.get("cause", ""), version=version)
            elif action == "close":
                signal = svc.signal_close(signal=signal, comment=request.POST.get("comment", ""), version=version)
            else:
                messages.error(request, f"“{action}” is not something done to a signal.")
                return HttpResponseRedirect(reverse("spc:spcsignal-detail", args=[signal.pk]))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{signal}: {signal.get_status_display().lower()}.")
        return HttpResponseRedirect(reverse("spc:spcsignal-detail", args=[signal.pk]))


urlpatterns = [
    *record_urls("signals/", SPCSignal, list=SignalList, detail=SignalDetail, history=True),
    path("signals/<int:pk>/<str:action>/", SignalAct.as_view(), name="spcsignal-act"),
]

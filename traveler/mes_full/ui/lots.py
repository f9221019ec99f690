"""Lot acceptance pages: the lot inspections (open one: the page shows the sample size to draw, then
takes the nonconforming units found), and the Z1.4 switching state of each part type and supplier."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import check, visible
from traveler.core.errors import TravelerError
from traveler.core.models import Company
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordHistoryView,
    RecordListView,
    ShellView,
    add_service_error,
    record_urls,
)
from traveler.mes_full.models import LotInspection, Z14SwitchingState
from traveler.mes_full.models.lots import LotStatus, Severity
from traveler.mes_full.services import lots as svc
from traveler.mes_lite.choices import WorkOrderStatus
from traveler.mes_lite.models import Part, PartType, Step, WorkOrder

VIEW, INSPECT, CHANGE_STATE = "mes_full.view_lotinspection", "mes_full.inspect_lot", "mes_full.change_z14switchingstate"


class LotOpenForm(forms.Form):
    work_order = forms.ModelChoiceField(queryset=WorkOrder.objects.none(), required=False,
                                        help_text="A work order's lot: its parts waiting at the step.")
    step = forms.ModelChoiceField(queryset=Step.objects.none(), required=False)
    part_type = forms.ModelChoiceField(queryset=PartType.objects.none(), required=False,
                                       help_text="A received lot: its part type.")
    supplier_company = forms.ModelChoiceField(queryset=Company.objects.none(), required=False, label="Supplier")
    supplier = forms.CharField(required=False, max_length=200, label="Or the supplier's name")
    supplier_lot_number = forms.CharField(required=False, max_length=100, label="Supplier's lot number")
    lot_size = forms.IntegerField(required=False, min_value=2, max_value=2**31 - 1, label="Lot size",
                                  help_text="A received lot's quantity (a work order's lot is counted).")
    level = forms.ChoiceField(initial="II", label="Inspection level")
    aql = forms.ChoiceField(initial="1.0", label="AQL")
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_order"].queryset = (WorkOrder.objects.filter(
            status__in=[WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS], archived_at__isnull=True)
            .order_by("number"))
        self.fields["step"].queryset = (Step.objects.filter(archived_at__isnull=True).select_related("process")
                                        .order_by("process__name", "sequence"))
        self.fields["step"].label_from_instance = lambda s: f"{s.process.name}: {s.sequence} {s.name}"
        self.fields["part_type"].queryset = PartType.objects.filter(archived_at__isnull=True).order_by("part_number")
        self.fields["supplier_company"].queryset = (Company.objects.filter(kind=Company.Kind.SUPPLIER,
                                                                           archived_at__isnull=True).order_by("name"))
        choices = svc.z14_choices()
        self.fields["level"].choices = [(x, x) for x in choices["levels"]]
        self.fields["aql"].choices = [(x, x) for x in choices["aqls"]]


class LotList(RecordListView):
    model = LotInspection
    columns = ["number", "part_type", "work_order", "step", "supplier", "status", "severity", "sample_size",
               "defects_found", "created_at"]
    search_fields = ["number", "supplier", "supplier_lot_number"]
    filter_fields = ["status", "severity"]
    permission = VIEW

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "work_order", "step")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        context["create_url"] = reverse("mes_full:lotinspection-create") if self.request.access.has(INSPECT) else None
        return context


class LotOpen(ShellView):
    permission = INSPECT

    def page(self, request, form, status=200):
        return render(request, "mes_full/lots/open.html", {
            "form": form, "available": svc.lot_acceptance_available(),
            "list_url": reverse("mes_full:lotinspection-list")}, status=status)

    def get(self, request):
        initial = {k: request.GET[k] for k in ("work_order", "step") if request.GET.get(k, "").isdigit()}
        return self.page(request, LotOpenForm(initial={"level": "II", "aql": "1.0", **initial}))

    def post(self, request):
        form = LotOpenForm(request.POST)
        if not svc.lot_acceptance_available():
            form.is_valid()
            form.add_error(None, "Lot acceptance needs the SPC module, which is not installed here.")
            return self.page(request, form, status=409)
        if not form.is_valid():
            return self.page(request, form, status=400)
        d = form.cleaned_data
        try:
            lot = svc.lot_inspection_open(
                aql=d["aql"], level=d["level"], work_order=d.get("work_order"), step=d.get("step"),
                part_type=d.get("part_type") if not d.get("work_order") else None, supplier=d.get("supplier") or "",
                supplier_company=d.get("supplier_company"), supplier_lot_number=d.get("supplier_lot_number") or "",
                lot_size=d.get("lot_size") if not d.get("work_order") else None, note=d.get("note") or "")
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(request, form, status=409 if exc.status == 409 else 400)
        messages.success(request, f"Lot {lot.number}: inspect a sample of {lot.sample_size}.")
        return HttpResponseRedirect(reverse("mes_full:lotinspection-detail", args=[lot.pk]))


class LotDetail(RecordDetailView):
    model = LotInspection
    template_name = "mes_full/lots/detail.html"
    permission = VIEW
    fields = ["part_type", "work_order", "step", "supplier", "supplier_lot_number", "lot_size", "level", "aql",
              "severity", "status", "defects_found", "severity_after", "switching_reason", "opened_by",
              "inspected_by", "inspected_at", "note"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "work_order", "step", "opened_by", "inspected_by",
                                                     "switching_state")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            parts = {p.pk: p for p in visible(Part.objects.filter(pk__in=obj.part_ids), self.request.access)}
            context.update({
                "parts": [parts[i] for i in obj.part_ids if i in parts],
                "can_record": self.request.access.has(INSPECT) and obj.status == LotStatus.PENDING,
                "available": svc.lot_acceptance_available(),
                "notes": svc.lot_plan_notes(obj) if svc.lot_acceptance_available() else [],
                "state_changed": obj.status == LotStatus.PENDING and obj.switching_state.severity != obj.severity,
                "state_url": reverse("mes_full:z14switchingstate-detail", args=[obj.switching_state_id]),
            })
        return context


class LotAct(ShellView):
    """POST: record the nonconforming units found, or draw the plan again."""

    http_method_names = ["post"]
    permission = INSPECT

    def post(self, request, pk, action):
        check(request.access, request.user, VIEW)
        lot = get_object_or_404(visible(LotInspection.objects.all(), request.access), pk=pk)
        version = request.POST.get("version", "")
        version = int(version) if version.isdigit() else None
        try:
            if action == "record":
                raw = request.POST.get("defects_found", "").strip()
                if not raw.isdigit() or len(raw) > 9:
                    messages.error(request, "Nonconforming units found: a whole number, 0 or more.")
                    return HttpResponseRedirect(reverse("mes_full:lotinspection-detail", args=[lot.pk]))
                lot = svc.lot_inspection_record(lot=lot, defects_found=int(raw), user=request.user,
                                                production_steady=request.POST.get("production_steady") == "on",
                                                note=request.POST.get("note", ""), version=version)
                verdict = lot.get_status_display().lower()
                messages.success(request, f"Lot {lot.number} {verdict}; inspection now "
                                          f"{Severity(lot.severity_after).label.lower()}.")
            elif action == "replan":
                lot = svc.lot_inspection_replan(lot=lot, version=version)
                messages.success(request, f"Lot {lot.number}: inspect a sample of {lot.sample_size}.")
            else:
                messages.error(request, f"“{action}” is not something done to a lot.")
        except TravelerError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("mes_full:lotinspection-detail", args=[lot.pk]))


class SwitchingList(RecordListView):
    model = Z14SwitchingState
    columns = ["__str__", "part_type", "supplier", "level", "aql", "severity", "lots", "reduced_approved",
               "last_reason"]
    search_fields = ["supplier", "part_type__part_number", "part_type__name"]
    filter_fields = ["severity"]
    permission = VIEW

    def get_queryset(self):
        return super().get_queryset().select_related("part_type")


class SwitchingDetail(RecordDetailView):
    model = Z14SwitchingState
    template_name = "mes_full/lots/switching_detail.html"
    permission = VIEW
    fields = ["part_type", "supplier", "level", "aql", "severity", "lots", "reduced_approved", "last_reason"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context.update({
                "can_change": self.request.access.has(CHANGE_STATE),
                "discontinued": obj.severity == Severity.DISCONTINUED,
                "lots": list(obj.inspections.order_by("-pk")[:20]),
                "counters": obj.state,
            })
        return context


class SwitchingAct(ShellView):
    """POST: approve or withdraw reduced inspection, or resume a discontinued one."""

    http_method_names = ["post"]
    permission = CHANGE_STATE

    def post(self, request, pk, action):
        check(request.access, request.user, VIEW)
        state = get_object_or_404(visible(Z14SwitchingState.objects.all(), request.access), pk=pk)
        version = request.POST.get("version", "")
        version = int(version) if version.isdigit() else None
        reason = request.POST.get("reason", "")
        try:
            if action == "reduced":
                state = svc.switching_state_update(state=state, version=version, reason=reason or None,
                                                   data={"reduced_approved": request.POST.get("reduced_approved") == "on"})
                messages.success(request, "Reduced inspection approved." if state.reduced_approved else
                                 "Reduced inspection no longer approved.")
            elif action == "resume":
                state = svc.switching_state_resume(state=state, reason=reason, version=version)
                messages.success(request, f"{state}.")
            else:
                messages.error(request, f"“{action}” is not something done to a switching state.")
        except TravelerError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("mes_full:z14switchingstate-detail", args=[state.pk]))


class SwitchingHistory(RecordHistoryView):
    model = Z14SwitchingState
    permission = VIEW


urlpatterns = [
    path("lots/new/", LotOpen.as_view(), name="lotinspection-create"),
    *record_urls("lots/", LotInspection, list=LotList, detail=LotDetail, history=True),
    path("lots/<int:pk>/<str:action>/", LotAct.as_view(), name="lotinspection-act"),
    *record_urls("lot-switching/", Z14SwitchingState, list=SwitchingList, detail=SwitchingDetail,
                 history=SwitchingHistory),
    path("lot-switching/<int:pk>/<str:action>/", SwitchingAct.as_view(), name="z14switchingstate-act"),
]

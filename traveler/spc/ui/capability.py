"""Capability pages: one characteristic's capability over a period, the summary of a part type's
characteristics against the tenant's Cpk threshold, the threshold's settings page; the characteristic
report (PDF) and its measurements (CSV)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from traveler.core.csvexport import csv_response
from traveler.core.errors import TravelerError
from traveler.core.tenancy import tenant_context
from traveler.core.ui.generic import ShellView, add_service_error
from traveler.mes_lite.models import PartType
from traveler.spc.reports_characteristic import MEASUREMENT_COLUMNS, characteristic_report_pdf, measurement_rows
from traveler.spc.services.capability import (
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    WARN_MARGIN,
    capability_summary,
    characteristic_capability,
    spc_settings,
    spc_settings_save,
)
from traveler.spc.services.characteristics import Filters, definition_or_404
from traveler.spc.stats.histogram import histogram_svg

VIEW, CHANGE_SETTINGS = "spc.view_characteristic", "spc.change_spcsettings"
PERIOD_FIELDS = ("date_from", "date_to", "step", "work_order", "equipment", "operator")


class PeriodForm(forms.Form):
    """The period (whole days, both included) and the narrowing filters of the pages and downloads."""

    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    step = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    work_order = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    equipment = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    operator = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "must be on or after the start")
        return data

    def filters(self, part_type: int | None = None) -> Filters:
        d = self.cleaned_data

        def midnight(day) -> datetime:
            return timezone.make_aware(datetime.combine(day, time(0, 0)))

        return Filters(part_type=part_type, step=d.get("step"),
                       work_orders=(d["work_order"],) if d.get("work_order") else (),
                       equipment=d.get("equipment"), operator=d.get("operator"),
                       date_from=midnight(d["date_from"]) if d.get("date_from") else None,
                       date_to=midnight(d["date_to"] + timedelta(days=1)) if d.get("date_to") else None)



def _period(request) -> tuple[PeriodForm, Filters | None]:
    form = PeriodForm(request.GET)
    return form, form.filters() if form.is_valid() else None


def _query(form: PeriodForm) -> str:
    kept = {k: form.data[k] for k in PERIOD_FIELDS if form.data.get(k)}
    return "?" + urlencode(kept) if kept else ""


def _maybe_url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class CharacteristicCapabilityPage(ShellView):
    permission = VIEW

    def get(self, request, pk):
        d = definition_or_404(pk)
        form, filters = _period(request)
        cap = characteristic_capability(d, filters) if filters is not None else None
        svg = None
        if cap is not None and cap.histogram:
            svg = mark_safe(histogram_svg(histogram=cap.histogram, title=f"{d.label}: histogram"))  # text escaped
        query = _query(form)
        return render(request, "spc/capability.html", {
            "definition": d, "form": form, "cap": cap, "histogram_svg": svg, "threshold": spc_settings().cpk_threshold,
            "report_url": reverse("spc:characteristic-report", args=[d.pk]) + query,
            "csv_url": reverse("spc:characteristic-measurements", args=[d.pk]) + query,
            "chart_url": _maybe_url("spc:characteristic", d.pk),
            "summary_url": reverse("spc:capability") + "?" + urlencode({"part_type": d.step.process.part_type_id}),
        }, status=200 if filters is not None else 400)


class CapabilitySummaryPage(ShellView):
    permission = VIEW

    def get(self, request):
        form, filters = _period(request)
        part_types = PartType.objects.filter(archived_at__isnull=True).order_by("part_number", "revision")
        raw = request.GET.get("part_type") or ""
        part_type = part_types.filter(pk=raw).first() if raw.isdigit() else None
        if raw and part_type is None:
            raise Http404
        summary = capability_summary(part_type, filters) if part_type is not None and filters is not None else None
        query = _query(form)
        rows = []
        for r in summary.rows if summary else []:
            rows.append({"row": r, "url": reverse("spc:characteristic-capability", args=[r.definition.pk]) + query})
        threshold = summary.threshold if summary else spc_settings().cpk_threshold
        return render(request, "spc/capability_summary.html", {
            "form": form, "summary": summary, "rows": rows, "part_types": part_types, "part_type": part_type,
            "threshold": threshold, "warn_below": threshold * WARN_MARGIN,
            "can_change_settings": request.access.has(CHANGE_SETTINGS),
        }, status=200 if filters is not None else 400)


class SettingsForm(forms.Form):
    cpk_threshold = forms.DecimalField(label="Cpk threshold", min_value=THRESHOLD_MIN, max_value=THRESHOLD_MAX,
                                       max_digits=6, decimal_places=3,
                                       help_text="Characteristics whose Cpk is below it are flagged; within 10 % "
                                                 "above it, they are shown as a warning.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=1000, label="Reason for the change")


class SPCSettingsPage(ShellView):
    permission = VIEW

    def _render(self, request, form, status=200):
        return render(request, "spc/capability_settings.html", {
            "form": form, "settings": spc_settings(), "can_change": request.access.has(CHANGE_SETTINGS)}, status=status)

    def get(self, request):
        current = spc_settings()
        return self._render(request, SettingsForm(initial={
            "cpk_threshold": current.cpk_threshold, "version": current.version if current.pk else None}))

    def post(self, request):
        from traveler.core.access import check

        check(request.access, request.user, CHANGE_SETTINGS)
        form = SettingsForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                spc_settings_save(cpk_threshold=d["cpk_threshold"], version=d.get("version"),
                                  reason=d.get("reason") or None)
            except TravelerError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, "SPC settings saved.")
                return redirect("spc:capability-settings")
        return self._render(request, form, status=400)


class CharacteristicReportPdf(ShellView):
    permission = VIEW

    def get(self, request, pk):
        d = definition_or_404(pk)
        form, filters = _period(request)
        if filters is None:
            return HttpResponse("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), status=400,
                                content_type="text/plain; charset=utf-8")
        body = characteristic_report_pdf(definition=d, filters=filters, tenant=request.tenant.name,
                                         printed_by=request.user.full_name)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="characteristic-{d.pk}.pdf"'
        return response


def _in_tenant(tenant, actor, rows):
    # A streamed body is read after the request's tenant context has closed: each row is read in it again.
    with tenant_context(tenant, actor=actor):
        yield from rows


class CharacteristicMeasurementsCsv(ShellView):
    permission = VIEW

    def get(self, request, pk):
        d = definition_or_404(pk)
        form, filters = _period(request)
        if filters is None:
            return HttpResponse("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), status=400,
                                content_type="text/plain; charset=utf-8")
        rows = _in_tenant(request.tenant, request.user, measurement_rows(d, filters))
        return csv_response(filename=f"characteristic-{d.pk}-measurements.csv", header=MEASUREMENT_COLUMNS, rows=rows)

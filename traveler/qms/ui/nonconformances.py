"""Nonconformance pages: the board (columns by state), a nonconformance's page (parts, reports, the
disposition form with its consequences shown before it is confirmed, signatures, history), opening
one from a part or a quality report, and the transitions."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from traveler.core.errors import TravelerError
from traveler.core.models import ApprovalRequest, Company, User
from traveler.core.services.signatures import manifestations
from traveler.core.ui.generic import ShellView, panels_for
from traveler.mes_lite.models import Part, Process, Step, WorkOrder
from traveler.mes_lite.services.routing import route_steps
from traveler.qms.choices import Disposition, DispositionStatus, NcrState, Severity
from traveler.qms.models import Concession, NonconformancePart, QualityReport, QuarantineDisposition
from traveler.qms.services.dispositions import (
    concession_record,
    customers_of,
    disposition_options,
    disposition_plan,
    nonconformance_disposition,
)
from traveler.qms.services.nonconformances import (
    concessions_visible,
    nonconformance_cancel,
    nonconformance_close,
    nonconformance_open,
    nonconformance_start,
    nonconformance_verify,
    nonconformances_visible,
)

VIEW = "qms.view_quarantinedisposition"
ADD = "qms.add_quarantinedisposition"
CHANGE = "qms.change_quarantinedisposition"
DISPOSITION = "qms.disposition_quarantinedisposition"
PER_COLUMN = 30
STATE_BADGES = {"open": "badge-dead", "in_progress": "badge-running", "dispositioned": "badge-updated",
                "closed": "badge-success", "cancelled": "badge-archived"}
SEVERITY_BADGES = {"critical": "badge-dead", "major": "badge-queued", "minor": "badge-archived"}


def _visible(request):
    return nonconformances_visible(QuarantineDisposition.objects.all(), request.access)


def age_days(ncr: QuarantineDisposition, today: date | None = None) -> int:
    return ((today or timezone.localdate()) - timezone.localtime(ncr.created_at).date()).days


class NcrBoard(ShellView):
    """Columns by state; in each the oldest open work first (closed and cancelled: the latest)."""

    permission = VIEW

    def get(self, request):
        if request.access.is_customer:
            return self._customer_list(request)
        qs = _visible(request).filter(archived_at__isnull=True)
        severity = request.GET.get("severity", "")
        owner = request.GET.get("owner", "")
        q = request.GET.get("q", "").strip()
        if severity in Severity.values:
            qs = qs.filter(severity=severity)
        if owner == "me":
            qs = qs.filter(owner=request.user)
        elif owner.isdigit():
            qs = qs.filter(owner_id=int(owner))
        if q:
            qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q))
        counts = dict(qs.values_list("state").annotate(n=Count("*")).order_by())
        today = timezone.localdate()
        columns = []
        for state in NcrState:
            active = state in (NcrState.OPEN, NcrState.IN_PROGRESS, NcrState.DISPOSITIONED)
            rows = list(qs.filter(state=state).select_related("owner")
                        .order_by(*(("created_at", "pk") if active else ("-updated_at", "-pk")))[:PER_COLUMN])
            columns.append({"state": state.value, "label": state.label, "count": counts.get(state.value, 0),
                            "badge": STATE_BADGES[state.value],
                            "cards": [{"ncr": n, "age": age_days(n, today), "severity_badge": SEVERITY_BADGES[n.severity],
                                       "overdue": bool(n.due_date and n.due_date < today and active)} for n in rows],
                            "more": max(counts.get(state.value, 0) - len(rows), 0)})
        owners = User.objects.filter(pk__in=QuarantineDisposition.objects.filter(owner__isnull=False)
                                     .values("owner_id")).order_by("full_name")
        return render(request, "qms/ncr_board.html", {
            "columns": columns, "severity": severity, "owner": owner, "q": q, "severities": Severity.choices,
            "owners": owners, "new_url": reverse("qms:quarantinedisposition-create") if request.access.has(ADD) else None})

    def _customer_list(self, request):
        rows = list(_visible(request).filter(archived_at__isnull=True).order_by("-created_at", "-pk")[:200])
        return render(request, "qms/ncr_customer_list.html", {"rows": rows})


def _parts_of(ncr) -> list[NonconformancePart]:
    return list(ncr.part_links.select_related("part__current_step", "part__order__company", "part__part_type")
                .order_by("pk"))


def _steps_for(ncr) -> list[Step]:
    process_ids = Part.objects.filter(pk__in=ncr.part_links.values("part_id")).values_list("process_id", flat=True)
    steps: dict[int, Step] = {}
    for pid in sorted(set(process_ids))[:5]:
        for s in route_steps(Process.objects.get(pk=pid), strict=False):
            steps.setdefault(s.pk, s)
    return list(steps.values())


def _step(value) -> Step | None:
    return Step.objects.filter(pk=int(value)).first() if str(value or "").isdigit() else None


def _company(value) -> Company | None:
    return Company.objects.filter(pk=int(value), archived_at__isnull=True).first() if str(value or "").isdigit() else None


def _choice(data) -> dict:
    return {"disposition": data.get("disposition", ""), "to_step": _step(data.get("to_step")),
            "supplier": _company(data.get("supplier")), "rma_number": data.get("rma_number", "").strip(),
            "shipment_reference": data.get("shipment_reference", "").strip()}


class NcrDetail(ShellView):
    permission = VIEW

    def get(self, request, pk, *, choice=None, error=None, status=200):
        ncr = get_object_or_404(_visible(request).select_related("owner", "step_found", "supplier", "rework_step",
                                                                 "decided_by", "verified_by"), pk=pk)
        if request.access.is_customer:
            links = [link for link in _parts_of(ncr)
                     if link.part.order_id and link.part.order.company_id == request.access.company_id]
            concessions = concessions_visible(Concession.objects.filter(nonconformance=ncr), request.access)
            return render(request, "qms/ncr_customer.html", {"ncr": ncr, "links": links,
                                                             "concessions": list(concessions)})
        choice = choice if choice is not None else (_choice(request.GET) if request.GET.get("disposition") else None)
        plan = disposition_plan(nonconformance=ncr, **choice) if choice else None
        can_decide = request.access.has(DISPOSITION) and ncr.state in (NcrState.OPEN, NcrState.IN_PROGRESS) \
            and ncr.disposition_status != DispositionStatus.AWAITING_APPROVAL
        options = disposition_options(nonconformance=ncr) if can_decide else {}
        approvals = list(ApprovalRequest.objects.filter(
            record_type=ContentType.objects.get_for_model(QuarantineDisposition), record_id=str(ncr.pk))
            .order_by("-pk")[:10])
        return render(request, "qms/ncr_detail.html", {
            "ncr": ncr, "state_badge": STATE_BADGES[ncr.state], "severity_badge": SEVERITY_BADGES[ncr.severity],
            "age": age_days(ncr), "links": _parts_of(ncr),
            "reports": list(QualityReport.objects.filter(pk__in=ncr.report_links.values("report_id"))
                            .select_related("step").order_by("pk")),
            "concessions": list(Concession.objects.filter(nonconformance=ncr).select_related("customer")),
            "customers": customers_of(ncr), "signatures": manifestations(ncr), "approvals": approvals,
            "can_change": request.access.has(CHANGE), "can_decide": can_decide,
            "can_concede": request.access.has("qms.add_concession") and ncr.state in (NcrState.OPEN,
                                                                                     NcrState.IN_PROGRESS),
            "dispositions": ([{"value": v, "label": label, "why": options.get(v)} for v, label in Disposition.choices]
                             if can_decide else []),
            "steps": _steps_for(ncr) if can_decide else [],
            "suppliers": list(Company.objects.filter(archived_at__isnull=True).order_by("name")[:500]) if can_decide else [],
            "choice": choice, "plan": plan, "error": error,
            "history_url": (reverse("qms:quarantinedisposition-history", args=[ncr.pk])
                            if request.access.has("core.view_history") else None),
            "pdf_url": reverse("qms:quarantinedisposition-pdf", args=[ncr.pk]),
            "panels": panels_for(request, "qms.quarantinedisposition.detail", ncr),
            "today": timezone.localdate().isoformat(),
        }, status=status)


class NcrDecide(NcrDetail):
    """POST: the disposition confirmed with the signer's password."""

    permission = DISPOSITION
    http_method_names = ["post"]

    def post(self, request, pk):
        ncr = get_object_or_404(_visible(request), pk=pk)
        choice = _choice(request.POST)
        version = request.POST.get("version", "")
        try:
            nonconformance_disposition(nonconformance=ncr, user=request.user, password=request.POST.get("password", ""),
                                       note=request.POST.get("note", "").strip(),
                                       version=int(version) if version.isdigit() else None, **choice)
        except TravelerError as exc:
            return self.get(request, pk, choice=choice, error=exc.message, status=400)
        ncr.refresh_from_db()
        done = ("awaits its approval" if ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL
                else "is dispositioned")
        messages.success(request, f"{ncr} {done}.")
        return HttpResponseRedirect(reverse("qms:quarantinedisposition-detail", args=[ncr.pk]))


class NcrTransition(ShellView):
    """POST: start, verify, close, cancel, or record a concession; back to the page."""

    http_method_names = ["post"]
    permission = CHANGE
    name = ""

    def get_permissions(self):
        return ["qms.add_concession"] if self.name == "concession" else [CHANGE]

    def post(self, request, pk):
        ncr = get_object_or_404(_visible(request), pk=pk)
        p = request.POST
        reason = p.get("reason", "").strip() or None
        try:
            if self.name == "start":
                nonconformance_start(nonconformance=ncr, reason=reason)
            elif self.name == "verify":
                nonconformance_verify(nonconformance=ncr, note=p.get("note", ""))
            elif self.name == "close":
                nonconformance_close(nonconformance=ncr, reason=reason)
            elif self.name == "cancel":
                nonconformance_cancel(nonconformance=ncr, reason=reason)
            elif self.name == "concession":
                concession_record(nonconformance=ncr, customer=_company(p.get("customer")),
                                  granted_by=p.get("granted_by", ""), reference=p.get("reference", ""),
                                  granted_on=parse_date(p.get("granted_on", "")) or None)
            else:
                raise Http404
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, {"start": f"{ncr} is in progress.", "verify": "Verification recorded.",
                                       "close": f"{ncr} is closed.", "cancel": f"{ncr} is cancelled.",
                                       "concession": "Concession recorded."}[self.name])
        return HttpResponseRedirect(reverse("qms:quarantinedisposition-detail", args=[ncr.pk]))


def _serials(text: str) -> tuple[list[Part], list[str]]:
    wanted = [s.strip() for s in text.replace(",", "\n").splitlines() if s.strip()]
    found = {p.serial_number: p for p in Part.objects.filter(serial_number__in=wanted, archived_at__isnull=True)}
    return [found[s] for s in dict.fromkeys(wanted) if s in found], [s for s in wanted if s not in found]


class NcrCreate(ShellView):
    """Open a nonconformance: from a part (``?part=``), a quality report (``?report=``), a work order
    (``?work_order=``), or serial numbers typed in."""

    permission = ADD

    def _initial(self, request) -> dict:
        g = request.GET
        part = Part.objects.filter(pk=int(g["part"])).first() if g.get("part", "").isdigit() else None
        report = (QualityReport.objects.filter(pk=int(g["report"])).select_related("part").first()
                  if g.get("report", "").isdigit() else None)
        wo = WorkOrder.objects.filter(pk=int(g["work_order"])).first() if g.get("work_order", "").isdigit() else None
        serial = part.serial_number if part else (report.part.serial_number if report else "")
        return {"serials": serial, "report": report, "work_order": wo, "title": "", "severity": "major",
                "description": report.description if report else "", "due_date": "", "owner": ""}

    def page(self, request, values, error=None, fields=None, status=200):
        members = User.objects.filter(memberships__tenant=request.tenant, memberships__is_active=True).order_by("full_name")
        return render(request, "qms/ncr_form.html", {"v": values, "error": error, "fields": fields or {},
                                                     "severities": Severity.choices, "members": members,
                                                     "board_url": reverse("qms:quarantinedisposition-list")}, status=status)

    def get(self, request):
        return self.page(request, self._initial(request))

    def post(self, request):
        p = request.POST
        report = QualityReport.objects.filter(pk=int(p["report"])).first() if p.get("report", "").isdigit() else None
        wo = WorkOrder.objects.filter(pk=int(p["work_order"])).first() if p.get("work_order", "").isdigit() else None
        values = {"serials": p.get("serials", ""), "report": report, "work_order": wo, "title": p.get("title", ""),
                  "severity": p.get("severity", ""), "description": p.get("description", ""),
                  "due_date": p.get("due_date", ""), "owner": p.get("owner", "")}
        parts, unknown = _serials(values["serials"])
        if unknown:
            return self.page(request, values, f"Unknown serial number(s): {', '.join(unknown[:10])}.",
                             {"serials": ["unknown"]}, status=400)
        owner = User.objects.filter(pk=int(values["owner"])).first() if values["owner"].isdigit() else None
        try:
            ncr = nonconformance_open(title=values["title"], severity=values["severity"], parts=parts, work_order=wo,
                                      reports=[report] if report else None, owner=owner,
                                      due_date=parse_date(values["due_date"]) if values["due_date"] else None,
                                      description=values["description"])
        except TravelerError as exc:
            return self.page(request, values, exc.message, getattr(exc, "fields", None), status=400)
        messages.success(request, f"{ncr} is open; its parts are on hold.")
        return HttpResponseRedirect(reverse("qms:quarantinedisposition-detail", args=[ncr.pk]))


def part_ncrs(part) -> list[QuarantineDisposition]:
    return list(QuarantineDisposition.objects.filter(part_links__part=part).distinct()
                .prefetch_related(Prefetch("part_links", queryset=NonconformancePart.objects.filter(part=part)))
                .order_by("-created_at")[:20])


# Panels on other pages ----------------------------------------------------------------------------

AGE_BUCKETS = ((0, 7, "Up to a week"), (8, 30, "8 to 30 days"), (31, 90, "31 to 90 days"), (91, None, "Over 90 days"))


def _ncr_list_panel(request, ncrs, new_url: str | None) -> str:
    from django.template.loader import render_to_string

    return render_to_string("qms/panels/ncr_list.html", {"ncrs": ncrs, "new_url": new_url}, request=request)


def part_panel(request, part) -> str:
    """On a part's page: its nonconformances, and "Open a nonconformance"."""
    new_url = (f"{reverse('qms:quarantinedisposition-create')}?part={part.pk}" if request.access.has(ADD) else None)
    return _ncr_list_panel(request, part_ncrs(part), new_url)


def report_panel(request, report) -> str:
    """On a quality report's page: the nonconformances it stands behind, and "Open a nonconformance"."""
    ncrs = list(QuarantineDisposition.objects.filter(report_links__report=report).order_by("-created_at")[:20])
    new_url = (f"{reverse('qms:quarantinedisposition-create')}?report={report.pk}" if request.access.has(ADD) else None)
    return _ncr_list_panel(request, ncrs, new_url)


def station_panel(request, part) -> str:
    """At the operator station: the part is under a nonconformance, and what to do with it."""
    from django.template.loader import render_to_string

    from traveler.qms.choices import NCR_ACTIVE

    links = list(NonconformancePart.objects.filter(part=part, resolved_at__isnull=True,
                                                   nonconformance__state__in=NCR_ACTIVE)
                 .select_related("nonconformance").order_by("nonconformance_id"))
    if not links:
        return ""
    return render_to_string("qms/panels/station_ncr.html", {"ncrs": [link.nonconformance for link in links],
                                                              "part": part}, request=request)


def open_by_age_panel(request, obj=None) -> str:
    """On the quality dashboard: open nonconformances (not closed or cancelled) by age and severity."""
    from django.template.loader import render_to_string

    today = timezone.localdate()
    qs = QuarantineDisposition.objects.filter(archived_at__isnull=True,
                                              state__in=[NcrState.OPEN, NcrState.IN_PROGRESS, NcrState.DISPOSITIONED])
    rows = []
    for low, high, label in AGE_BUCKETS:
        newest = today - timezone.timedelta(days=low)
        f = qs.filter(created_at__date__lte=newest)
        if high is not None:
            f = f.filter(created_at__date__gte=today - timezone.timedelta(days=high))
        counts = dict(f.values_list("severity").annotate(n=Count("*")).order_by())
        rows.append({"label": label, "critical": counts.get("critical", 0), "major": counts.get("major", 0),
                     "minor": counts.get("minor", 0), "total": sum(counts.values())})
    oldest = qs.order_by("created_at", "pk").first()
    return render_to_string("qms/panels/ncr_by_age.html", {
        "rows": rows, "total": sum(r["total"] for r in rows), "oldest": oldest,
        "oldest_age": age_days(oldest, today) if oldest else None,
        "board_url": reverse("qms:quarantinedisposition-list")}, request=request)

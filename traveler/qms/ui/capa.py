"""CAPA pages: the list (overdue flagged), the CAPA page with its tabs (tasks, root-cause analysis with
the 5 Whys and the fishbone, verification, approvals and signatures, timeline), the forms of each, the
transition buttons the state allows, and the 8D report."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from traveler.core.errors import TravelerError
from traveler.core.models import History
from traveler.core.services.signatures import manifestations
from traveler.core.ui.display import history_rows
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordFormView,
    RecordListView,
    RecordView,
    add_service_error,
    panels_for,
)
from traveler.qms.choices import CapaState, CapaType
from traveler.qms.fishbone import rca_fishbone_svg
from traveler.qms.models import CAPA, CapaTask, QuarantineDisposition, RcaRecord
from traveler.qms.services import capa as svc
from traveler.qms.services.rca import rca_save
from traveler.qms.ui.capa_forms import CapaForm, CapaTaskForm, RcaForm, SignForm, VerificationForm

TABS = (("tasks", "Tasks"), ("rca", "Root cause"), ("verification", "Verification"), ("approvals", "Approvals"),
        ("timeline", "Timeline"))
TRANSITION_LABELS = {"start": "Start work", "submit": "Submit for verification", "close": "Close", "cancel": "Cancel…"}


def _capa_create(*, data: dict, reason: str | None = None) -> CAPA:
    return svc.capa_create(data=data, reason=reason)


def _overdue_badge(capa: CAPA) -> str:
    due = capa.due_date.isoformat() if capa.due_date else "—"
    if svc.capa_is_overdue(capa):
        return format_html('{} <span class="badge badge-dead">Overdue</span>', due)
    return due


class CapaList(RecordListView):
    model = CAPA
    columns = ["number", "title", "severity", "state", "owner", "due_date"]
    search_fields = ["number", "title", "problem_statement"]
    filter_fields = ["state", "severity", "capa_type"]

    def get_queryset(self):
        return super().get_queryset().select_related("owner")

    def filtered(self):
        qs = super().filtered()
        if self.request.GET.get("overdue") in ("1", "true"):
            qs = qs.filter(pk__in=svc.capas_overdue().values("pk"))
        return qs

    def render(self, context, status=200, template=None):
        names = [h["name"] for h in context.get("headers", [])]
        if "due_date" in names:
            i = names.index("due_date")
            for row in context.get("rows", []):
                row["cells"][i] = _overdue_badge(row["object"])
        return super().render(context, status, template)


class CapaEdit(RecordFormView):
    model = CAPA
    form_class = CapaForm
    service_kwarg = "capa"
    create_service = _capa_create
    update_service = svc.capa_update

    def get_form(self, data=None, instance=None):
        form = super().get_form(data=data, instance=instance)
        ncr_id = self.request.GET.get("nonconformance", "")
        if instance is None and data is None and ncr_id.isdigit():  # opened from a nonconformance's page
            ncr = QuarantineDisposition.objects.filter(pk=int(ncr_id)).first()
            if ncr is not None:
                form.initial.update(capa_initial_from(ncr))
        return form


def capa_initial_from(ncr: QuarantineDisposition) -> dict:
    """A new CAPA's fields taken from the nonconformance it answers: its problem, severity, parts,
    reports and the step where it was found (all still editable before saving)."""
    return {
        "title": ncr.title[:200], "severity": ncr.severity, "capa_type": CapaType.CORRECTIVE,
        "problem_statement": f"{ncr.number}: {ncr.title}" + (f"\n\n{ncr.description}" if ncr.description else ""),
        "nonconformances": [ncr], "parts": list(ncr.parts.all()), "quality_reports": list(ncr.reports.all()),
        "steps": [ncr.step_found] if ncr.step_found_id else [],
    }


class _CapaPage(RecordView):
    model = CAPA

    def capa(self) -> CAPA:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def back(self, capa: CAPA, tab: str = "") -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("qms:capa-detail", args=[capa.pk]) + (f"?tab={tab}" if tab else ""))


class CapaDetail(RecordDetailView):
    model = CAPA
    template_name = "qms/capa_detail.html"
    fields = ["number", "title", "capa_type", "severity", "state", "owner", "due_date", "problem_statement",
              "immediate_action", "cancel_reason"]

    def get_queryset(self):
        return super().get_queryset().select_related("owner")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is None:
            return context
        request = self.request
        tab = request.GET.get("tab", "tasks")
        tab = tab if tab in dict(TABS) else "tasks"
        can = self.can("change")
        context.update({
            "tab": tab, "tabs": [{"code": c, "label": label, "url": f"?tab={c}"} for c, label in TABS],
            "progress": svc.capa_progress(obj), "overdue": svc.capa_is_overdue(obj), "can_change": can,
            "transitions": [{"action": a, "label": TRANSITION_LABELS[a],
                             "url": reverse("qms:capa-transition", args=[obj.pk, a])}
                            for a in svc.transitions_allowed(obj)] if can and obj.archived_at is None else [],
            "pdf_url": reverse("qms:capa-report", args=[obj.pk]),
            "update_url": context.get("update_url") if obj.state in svc.CAPA_ACTIVE else None,
            "links": {
                "Nonconformances": list(obj.nonconformances.all()),
                "Quality reports": list(obj.quality_reports.all()), "Parts": list(obj.parts.all()),
                "Work orders": list(obj.work_orders.all()), "Steps": list(obj.steps.all()),
            },
        })
        if tab == "tasks":
            tasks = list(CapaTask.objects.filter(capa=obj).select_related("owner").prefetch_related(
                "assignee_links__user").order_by("pk"))
            me = request.user.pk
            context["tasks"] = [{
                "task": t, "overdue": svc.task_is_overdue(t) and obj.state in svc.CAPA_ACTIVE,
                "assignees": [{"link": a, "signatures": manifestations(a) if a.completed_at else []}
                              for a in t.assignee_links.all()],
                "complete_url": (reverse("qms:capa-task-complete", args=[obj.pk, t.pk])
                                 if can and t.completed_at is None and obj.state in svc.CAPA_ACTIVE and any(
                                     a.user_id == me and a.completed_at is None for a in t.assignee_links.all())
                                 else None),
            } for t in tasks]
            context["task_new_url"] = (reverse("qms:capa-task-create", args=[obj.pk])
                                       if can and obj.state in (CapaState.OPEN, CapaState.IN_PROGRESS) else None)
            context["sign_form"] = SignForm()
        elif tab == "rca":
            rca = RcaRecord.objects.filter(capa=obj).first()
            context["rca"] = rca
            if rca is not None:
                context["whys"] = list(rca.whys.all())
                context["causes"] = list(rca.causes.all())
                context["root_causes"] = list(rca.root_causes.all())
                context["fishbone"] = mark_safe(rca_fishbone_svg(rca))  # built from escaped text
            context["rca_url"] = reverse("qms:capa-rca", args=[obj.pk]) if can and obj.state in svc.CAPA_ACTIVE else None
        elif tab == "verification":
            from traveler.core.ui.documents import attachments_panel

            verifications = list(obj.verifications.select_related("verified_by").order_by("-pk"))
            context["verifications"] = [{
                "v": v, "signatures": manifestations(v),
                "documents": mark_safe(attachments_panel(request, v)) if request.access.has("core.view_documents")
                else None} for v in verifications]
            if can and obj.state == CapaState.PENDING_VERIFICATION:
                context["verify_form"] = VerificationForm()
                context["verify_url"] = reverse("qms:capa-verify", args=[obj.pk])
        elif tab == "approvals":
            latest = svc.latest_verification(obj)
            context["needs_approval"] = obj.severity in svc.NEEDS_CLOSURE_APPROVAL
            context["closure_request_url"] = (
                reverse("qms:capa-request-closure", args=[obj.pk])
                if can and obj.state == CapaState.PENDING_VERIFICATION and context["needs_approval"]
                and latest is not None and latest.outcome == "confirmed" else None)
            context["approval_panels"] = panels_for(request, self.panel_target(), obj)
        else:
            rows = History.objects.filter(table_name=CAPA._meta.db_table, record_id=str(obj.pk)).order_by("-id")[:200]
            context["entries"] = history_rows(CAPA, rows)
        return context

    def render(self, context, status=200, template=None):
        context["panels"] = []  # the CAPA's panels (signatures and approvals, ...) are on its Approvals tab
        return super().render(context, status, template)


class CapaTransition(_CapaPage):
    """POST: one transition of ``CAPA_TRANSITIONS`` through its service (cancel needs a reason)."""

    http_method_names = ["post"]
    action = "change"
    SERVICES = {"start": svc.capa_start, "submit": svc.capa_submit, "close": svc.capa_close, "cancel": svc.capa_cancel}

    def post(self, request, pk, action):
        capa = self.capa()
        service = self.SERVICES.get(action)
        if service is None:
            messages.error(request, f"“{action}” is not a transition of a CAPA.")
            return self.back(capa)
        version = request.POST.get("version", "")
        kwargs = {"capa": capa, "version": int(version) if version.isdigit() else None}
        reason = request.POST.get("reason", "").strip()
        kwargs["reason"] = reason if action == "cancel" else (reason or None)
        try:
            capa = service(**kwargs)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{capa}: {capa.get_state_display().lower()}.")
        return self.back(capa)


class CapaTaskCreate(_CapaPage):
    action = "change"
    template_name = "qms/capa_task_form.html"

    def get(self, request, pk):
        capa = self.capa()
        return self.render({"object": capa, "form": CapaTaskForm(initial={"owner": capa.owner_id})})

    def post(self, request, pk):
        capa = self.capa()
        form = CapaTaskForm(data=request.POST)
        if form.is_valid():
            try:
                svc.capa_task_create(data={**form.cleaned_data, "capa": capa}, reason=None)
            except TravelerError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"Task “{form.cleaned_data['title']}” added to {capa}.")
                return self.back(capa, "tasks")
        return self.render({"object": capa, "form": form}, status=400)


class CapaTaskComplete(_CapaPage):
    """POST: the signed-in assignee completes a task, signing with their password."""

    http_method_names = ["post"]
    action = "change"

    def post(self, request, pk, task_pk):
        capa = self.capa()
        task = get_object_or_404(CapaTask.objects.filter(capa=capa), pk=task_pk)
        form = SignForm(data=request.POST)
        if not form.is_valid():
            messages.error(request, "Enter your password to sign the completion.")
            return self.back(capa, "tasks")
        try:
            svc.capa_task_complete(capa_task=task, user=request.user, password=form.cleaned_data["password"],
                                   comment=form.cleaned_data["comment"], ip=request.META.get("REMOTE_ADDR"))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You completed “{task}” (signed).")
        return self.back(capa, "tasks")


class CapaRcaEdit(_CapaPage):
    action = "change"
    template_name = "qms/capa_rca_form.html"

    def get(self, request, pk):
        capa = self.capa()
        return self.render({"object": capa, "form": RcaForm(rca=RcaRecord.objects.filter(capa=capa).first())})

    def post(self, request, pk):
        capa = self.capa()
        rca = RcaRecord.objects.filter(capa=capa).first()
        form = RcaForm(data=request.POST, rca=rca)
        if form.is_valid():
            try:
                rca_save(capa=capa, data=form.analysis(), version=form.cleaned_data.get("version"))
            except TravelerError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"Root-cause analysis of {capa} saved.")
                return self.back(capa, "rca")
        return self.render({"object": capa, "form": form}, status=400)


class CapaVerify(_CapaPage):
    http_method_names = ["post"]
    action = "change"

    def post(self, request, pk):
        capa = self.capa()
        form = VerificationForm(data=request.POST)
        if not form.is_valid():
            messages.error(request, "Give the outcome, the method and your password.")
            return self.back(capa, "verification")
        d = form.cleaned_data
        try:
            v = svc.capa_verify(capa=capa, user=request.user, password=d["password"], outcome=d["outcome"],
                                method=d["method"], notes=d["notes"], ip=request.META.get("REMOTE_ADDR"))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Verification recorded and signed: {v.get_outcome_display().lower()}.")
        return self.back(capa, "verification")


class CapaRequestClosure(_CapaPage):
    http_method_names = ["post"]
    action = "change"

    def post(self, request, pk):
        capa = self.capa()
        try:
            req = svc.capa_closure_request(capa=capa, requested_by=request.user, notes=request.POST.get("notes", ""))
        except TravelerError as exc:
            messages.error(request, exc.message)
            return self.back(capa, "approvals")
        messages.success(request, f"Closure approval requested for {capa}.")
        return HttpResponseRedirect(reverse("core:approval-detail", args=[req.pk]))


class CapaReport(_CapaPage):
    """The CAPA's 8D report as a PDF, with every signature manifested."""

    def get(self, request, pk):
        from traveler.qms.pdf_capa import capa_8d_pdf

        capa = self.capa()
        pdf = capa_8d_pdf(capa=capa, tenant=request.tenant.name,
                          printed_by=request.user.full_name or request.user.email)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{capa.number}-8D.pdf"'
        return response


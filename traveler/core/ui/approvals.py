"""Pages of electronic signatures and approvals: the signing dialog, "My approvals", a request's page
with its timeline, asking for an approval, and the approval templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from traveler.core.access import check, visible
from traveler.core.auth import client_ip
from traveler.core.errors import TravelerError
from traveler.core.models import ApprovalRequest, ApprovalTemplate, User
from traveler.core.registry import registry
from traveler.core.services import approvals as svc
from traveler.core.services.signatures import (
    format_signed_at,
    manifestation,
    manifestations,
    meaning_label,
    record_content,
    records_visible,
    sha256,
    signable_by_key,
    signature_sign,
)
from traveler.core.ui.display import EMPTY, format_datetime
from traveler.core.ui.generic import (
    ShellView,
    add_service_error,
    record_page_url,
)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _record(request, record_type: str, pk: int):
    try:
        signable = signable_by_key(record_type)
    except TravelerError:
        raise Http404 from None
    obj = records_visible(signable.model, request.access).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return signable, obj


def record_key(obj) -> str:
    return obj._meta.label_lower


# ---------- what every signed record's page shows ----------

def signatures_panel(request, obj) -> str:
    """The manifestation of every signature of ``obj`` (11.50), its approvals, and the actions."""
    key = record_key(obj)
    ct = ContentType.objects.get_for_model(type(obj))
    requests = list(ApprovalRequest.objects.filter(record_type=ct, record_id=str(obj.pk)).order_by("-id")[:20])
    open_request = next((r for r in requests if r.is_open), None)
    here = request.get_full_path()
    can_sign = request.access.has("core.sign_records") and registry.signables[key].generic_signing
    return render_to_string("core/_signatures_panel.html", {
        "signatures": manifestations(obj), "requests": requests, "open_request": open_request,
        "sign_url": (reverse("core:sign", args=[key, obj.pk]) + f"?next={here}") if can_sign else None,
        "request_url": (reverse("core:approval-new", args=[key, obj.pk]) + f"?next={here}")
        if key in registry.approvables and request.access.has("core.request_approvals") and not open_request else None,
    }, request=request)


# ---------- the signing dialog ----------

class SignForm(forms.Form):
    meaning = forms.ChoiceField(label="Meaning of this signature")
    comment = forms.CharField(label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Entered at every signing: it makes this your signature.")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, meanings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meaning"].choices = [("", "Choose…"), *meanings]


def content_rows(obj) -> tuple[list[dict], str, int]:
    """What is signed, field by field, with its SHA-256 and version: shown before signing."""
    text, data = record_content(obj)
    by_column = {f.column: f for f in obj._meta.concrete_fields}
    rows = []
    for column, value in sorted(data.items()):
        field = by_column.get(column)
        rows.append({"label": str(field.verbose_name).capitalize() if field else column,
                     "value": EMPTY if value in (None, "") else value})
    return rows, sha256(text), int(data.get("version") or 0)


class SignView(ShellView):
    permission = "core.sign_records"

    def page(self, request, signable, obj, form, status=200):
        rows, digest, version = content_rows(obj)
        if not form.is_bound:
            form.initial["version"] = version
        return render(request, "core/sign.html", {
            "object": obj, "verbose_name": obj._meta.verbose_name, "rows": rows, "digest": digest,
            "version": version, "form": form, "next": _safe_next(request, ""), "now": format_signed_at(timezone.now()),
            "signatures": manifestations(obj)}, status=status)

    def meanings(self, signable):
        codes = signable.meanings or tuple(registry.signature_meanings)
        return [(c, meaning_label(c)) for c in codes if c != "delegated"]

    def get(self, request, record_type, pk):
        signable, obj = _record(request, record_type, pk)
        if signable.permission:
            check(request.access, request.user, signable.permission)
        return self.page(request, signable, obj, SignForm(meanings=self.meanings(signable)))

    def post(self, request, record_type, pk):
        signable, obj = _record(request, record_type, pk)
        if signable.permission:
            check(request.access, request.user, signable.permission)
        form = SignForm(request.POST, meanings=self.meanings(signable))
        if not form.is_valid():
            return self.page(request, signable, obj, form, status=400)
        d = form.cleaned_data
        try:
            sig = signature_sign(user=request.user, password=d["password"], record=obj, meaning=d["meaning"],
                                 comment=d["comment"], expected_version=d["version"], ip=client_ip(request))
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(request, signable, obj, form, status=exc.status)
        messages.success(request, f"Signed: {manifestation(sig, sig.record_version)['text']}.")
        return HttpResponseRedirect(_safe_next(request, reverse("core:approval-inbox")))


# ---------- "My approvals" ----------

def request_rows(requests) -> list[dict]:
    now = timezone.now()
    return [{"r": r, "overdue": r.status == "pending" and r.due_at is not None and r.due_at < now,
             "due": format_datetime(r.due_at) if r.due_at else EMPTY, "requested": format_datetime(r.created_at),
             "url": reverse("core:approval-detail", args=[r.pk])} for r in requests]


class ApprovalInbox(ShellView):
    permission = "core.view_approvals"

    def get(self, request):
        boxes = svc.approvals_for_user(user=request.user, access=request.access)
        waiting = request_rows(boxes["waiting"])
        waiting.sort(key=lambda row: (not row["overdue"], row["r"].due_at or timezone.now()))
        return render(request, "core/approval_inbox.html", {
            "waiting": waiting, "requested": request_rows(boxes["requested"])})


# ---------- one request ----------

class RespondForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")], widget=forms.RadioSelect)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Required to reject: the requester is told why.")
    self_approval_justification = forms.CharField(
        label="Justification for approving your own request", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class DelegateForm(forms.Form):
    to_user = forms.ModelChoiceField(label="Delegate to", queryset=User.objects.none())
    reason = forms.CharField(max_length=2000)
    password = forms.CharField(label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__is_active=True, memberships__accepted_at__isnull=False,
            is_active=True).order_by("full_name")


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class DraftApproverForm(forms.Form):
    user = forms.ModelChoiceField(label="Approver", queryset=User.objects.none(), required=False)
    required = forms.BooleanField(label="Required", required=False)
    position = forms.IntegerField(label="Turn", min_value=1, max_value=100, required=False)

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__is_active=True, memberships__accepted_at__isnull=False,
            is_active=True).order_by("full_name")


DraftApprovers = forms.formset_factory(DraftApproverForm, extra=0, max_num=50)


class ApprovalDetail(ShellView):
    permission = "core.view_approvals"

    def get_request(self, pk) -> ApprovalRequest:
        req = svc.approval_requests_visible(visible(ApprovalRequest.objects.filter(pk=pk), self.request.access),
                                            self.request.access).select_related(
            "record_type", "requested_by", "template").first()
        if req is None:
            raise Http404
        return req

    def page(self, request, req, forms_=None, status=200):
        state = svc.approval_state(req)
        model = req.record_type.model_class()
        record = records_visible(model, request.access).filter(pk=req.record_id).first() if model else None
        current = getattr(record, "version", None)
        sigs = {}
        for r in state.responses.values():
            sigs[r.pk] = manifestation(r.signature, current)
        timeline = [{"response": r, "sig": sigs[r.pk]} for r in sorted(state.responses.values(), key=lambda r: r.pk)]
        my_turn = req.status == "pending" and any(p.user_id == request.user.pk for p in state.turn)
        forms_ = forms_ or {}
        may_cancel = req.is_open and (req.requested_by_id == request.user.pk or request.access.has("core.cancel_approvals"))
        return render(request, "core/approval_detail.html", {
            "req": req, "state": state, "timeline": timeline, "record": record,
            "record_url": _detail_url(record, request.access), "current_version": current,
            "changed": current is not None and current != req.record_version,
            "places": [{"p": p, "responded": p.pk in state.responses, "turn": p in state.turn} for p in state.places],
            "my_turn": my_turn and request.access.has("core.respond_approvals"),
            "is_requester": req.requested_by_id == request.user.pk,
            "respond_form": forms_.get("respond") or RespondForm(),
            "delegate_form": forms_.get("delegate") or DelegateForm(tenant=request.tenant),
            "cancel_form": forms_.get("cancel") or CancelForm() if may_cancel else None,
            "draft_form": (forms_.get("approvers") or DraftApprovers(
                initial=[{"user": p.user, "required": p.required, "position": p.position} for p in state.places]
                + [{"required": True}] * 2, form_kwargs={"tenant": request.tenant}))
            if req.status == "draft" and may_cancel else None,
            "may_cancel": may_cancel, "due": format_datetime(req.due_at) if req.due_at else EMPTY,
            "overdue": req.status == "pending" and req.due_at and req.due_at < timezone.now(),
        }, status=status)

    def get(self, request, pk):
        return self.page(request, self.get_request(pk))

    def post(self, request, pk):
        req = self.get_request(pk)
        what = request.POST.get("action")
        if what == "respond":
            check(request.access, request.user, "core.respond_approvals")
            check(request.access, request.user, "core.sign_records")
            form = RespondForm(request.POST)
            if not form.is_valid():
                return self.page(request, req, {"respond": form}, status=400)
            d = form.cleaned_data
            try:
                svc.approval_respond(request=req, user=request.user, password=d["password"], decision=d["decision"],
                                     comment=d["comment"], self_approval_justification=d["self_approval_justification"],
                                     ip=client_ip(request))
            except TravelerError as exc:
                add_service_error(form, exc)
                return self.page(request, req, {"respond": form}, status=exc.status)
            messages.success(request, "Your decision is signed and recorded.")
        elif what == "delegate":
            check(request.access, request.user, "core.respond_approvals")
            form = DelegateForm(request.POST, tenant=request.tenant)
            if not form.is_valid():
                return self.page(request, req, {"delegate": form}, status=400)
            d = form.cleaned_data
            try:
                svc.approval_delegate(request=req, user=request.user, password=d["password"], to_user=d["to_user"],
                                      reason=d["reason"], ip=client_ip(request))
            except TravelerError as exc:
                add_service_error(form, exc)
                return self.page(request, req, {"delegate": form}, status=exc.status)
            messages.success(request, f"Delegated to {d['to_user']}.")
        elif what in ("approvers", "start"):
            if req.requested_by_id != request.user.pk:
                check(request.access, request.user, "core.cancel_approvals")
            try:
                if what == "approvers":
                    formset = DraftApprovers(request.POST, form_kwargs={"tenant": request.tenant})
                    if not formset.is_valid():
                        return self.page(request, req, {"approvers": formset}, status=400)
                    rows = [{"user": f.cleaned_data["user"], "required": f.cleaned_data["required"],
                             "position": f.cleaned_data.get("position") or i + 1}
                            for i, f in enumerate(f for f in formset.forms if f.cleaned_data.get("user"))]
                    svc.approval_request_set_approvers(request=req, approvers=rows)
                    messages.success(request, "Approvers saved.")
                else:
                    svc.approval_request_start(request=req)
                    messages.success(request, "The request is started: the approvers are notified.")
            except TravelerError as exc:
                messages.error(request, exc.message)
        elif what == "cancel":
            form = CancelForm(request.POST)
            if req.requested_by_id != request.user.pk:
                check(request.access, request.user, "core.cancel_approvals")
            if not form.is_valid():
                return self.page(request, req, {"cancel": form}, status=400)
            try:
                svc.approval_request_cancel(request=req, user=request.user, reason=form.cleaned_data["reason"])
            except TravelerError as exc:
                add_service_error(form, exc)
                return self.page(request, req, {"cancel": form}, status=exc.status)
            messages.success(request, "The request is cancelled.")
        else:
            raise Http404
        return HttpResponseRedirect(reverse("core:approval-detail", args=[req.pk]))


class ApprovalPdf(ApprovalDetail):
    def get(self, request, pk):
        from django.http import HttpResponse

        from traveler.core.pdf import approval_record_pdf

        req = self.get_request(pk)
        model = req.record_type.model_class()
        record = records_visible(model, request.access).filter(pk=req.record_id).first() if model else None
        body = approval_record_pdf(req=req, state=svc.approval_state(req), current_version=getattr(record, "version", None),
                                   tenant=request.tenant.name, printed_by=request.user.full_name)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="approval-{req.pk}.pdf"'
        return response

    def post(self, request, pk):
        raise Http404


def _detail_url(record, access) -> str | None:
    """The record's page: the one its module registered, else the generic record page (``record_page_url``)."""
    if record is None:
        return None
    approvable = registry.approvables.get(record_key(record))
    if approvable and approvable.detail_url:
        return approvable.detail_url(record)
    return record_page_url(record, access)


# ---------- asking for an approval ----------

class NewRequestForm(forms.Form):
    template = forms.ModelChoiceField(queryset=ApprovalTemplate.objects.none())
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="What the approvers should look at.")
    start = forms.BooleanField(label="Start now with the template's approvers", required=False, initial=True,
                               help_text="Untick to review and change the approvers first (a draft).")

    def __init__(self, *args, types=(), **kwargs):
        super().__init__(*args, **kwargs)
        qs = ApprovalTemplate.objects.filter(archived_at__isnull=True)
        if types:
            qs = qs.filter(template_type__in=types)
        self.fields["template"].queryset = qs.order_by("name")


class ApprovalNew(ShellView):
    permission = "core.request_approvals"

    def target(self, request, record_type, pk):
        approvable = registry.approvables.get(record_type)
        if approvable is None:
            raise Http404
        check(request.access, request.user, approvable.permission)
        obj = records_visible(approvable.model, request.access).filter(pk=pk).first()
        if obj is None:
            raise Http404
        return approvable, obj

    def page(self, request, obj, form, status=200):
        return render(request, "core/approval_new.html", {"object": obj, "form": form,
                                                          "next": _safe_next(request, "")}, status=status)

    def get(self, request, record_type, pk):
        approvable, obj = self.target(request, record_type, pk)
        return self.page(request, obj, NewRequestForm(types=approvable.template_types))

    def post(self, request, record_type, pk):
        approvable, obj = self.target(request, record_type, pk)
        form = NewRequestForm(request.POST, types=approvable.template_types)
        if not form.is_valid():
            return self.page(request, obj, form, status=400)
        try:
            req = svc.approval_request_create(record=obj, template=form.cleaned_data["template"],
                                              requested_by=request.user, notes=form.cleaned_data["notes"],
                                              start=form.cleaned_data["start"])
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(request, obj, form, status=exc.status)
        messages.success(request, "Approval requested: the approvers are notified." if req.status == "pending" else
                         "Draft saved: check the approvers, then start the request.")
        return HttpResponseRedirect(reverse("core:approval-detail", args=[req.pk]))


urlpatterns = [
    path("sign/<str:record_type>/<int:pk>/", SignView.as_view(), name="sign"),
    path("approvals/", ApprovalInbox.as_view(), name="approval-inbox"),
    path("approvals/<int:pk>/", ApprovalDetail.as_view(), name="approval-detail"),
    path("approvals/<int:pk>/pdf/", ApprovalPdf.as_view(), name="approval-pdf"),
    path("approvals/new/<str:record_type>/<int:pk>/", ApprovalNew.as_view(), name="approval-new"),
]

"""Pages of approval templates: the generic record pages, and the editor of default approvers."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse

from traveler.core.errors import TravelerError
from traveler.core.models import ApprovalTemplate, User
from traveler.core.registry import registry
from traveler.core.services.approval_templates import (
    approval_template_create,
    approval_template_set_approvers,
    approval_template_update,
)
from traveler.core.ui.generic import RecordDetailView, RecordFormView, RecordListView, ShellView, record_urls


class TemplatePermissions:
    def perm(self, action: str) -> str:
        return "core.view_approvals" if action == "view" else "core.manage_approval_templates"


class TemplateList(TemplatePermissions, RecordListView):
    model = ApprovalTemplate
    columns = ["name", "template_type", "flow", "order", "sla_days", "updated_at"]
    search_fields = ["name", "description"]
    filter_fields = ["flow", "order"]


class TemplateDetail(TemplatePermissions, RecordDetailView):
    model = ApprovalTemplate
    fields = ["name", "template_type", "description", "flow", "threshold", "order", "sla_days", "allow_self_approval"]


class TemplateForm(forms.ModelForm):
    template_type = forms.ChoiceField()

    class Meta:
        model = ApprovalTemplate
        fields = ["name", "template_type", "description", "flow", "threshold", "order", "sla_days", "allow_self_approval"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_type"].choices = sorted(registry.approval_template_types.items(), key=lambda c: c[1])


def _template_update(*, approvaltemplate, version, data, reason=None):
    return approval_template_update(template=approvaltemplate, version=version, data=data, reason=reason)


class TemplateEdit(TemplatePermissions, RecordFormView):
    model = ApprovalTemplate
    form_class = TemplateForm
    create_service = staticmethod(lambda *, data, reason=None: approval_template_create(data=data, reason=reason))
    update_service = staticmethod(_template_update)


def template_approvers_panel(request, obj) -> str:
    rows = [a for a in obj.approvers.filter(archived_at__isnull=True).select_related("user", "role")]
    edit = (reverse("core:approvaltemplate-approvers", args=[obj.pk])
            if request.access.has("core.manage_approval_templates") and obj.archived_at is None else None)
    return render_to_string("core/_template_approvers.html", {"rows": rows, "edit_url": edit}, request=request)


class ApproverRowForm(forms.Form):
    """One default approver: a person or every member of a role."""

    who = forms.ChoiceField(label="Approver", required=False)
    required = forms.BooleanField(label="Required", required=False, initial=True)
    position = forms.IntegerField(label="Turn", min_value=1, max_value=100, required=False,
                                  help_text="Order in a sequential template.")

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [("", "—"), *choices]


ApproverRows = forms.formset_factory(ApproverRowForm, extra=0, max_num=50)


class TemplateApprovers(ShellView):
    """Edit a template's default approvers: rows of a user or a role, required or optional, a turn."""

    permission = "core.manage_approval_templates"

    def choices(self, request):
        from traveler.core.models import Role

        users = User.objects.filter(memberships__tenant=request.tenant, memberships__is_active=True,
                                    memberships__accepted_at__isnull=False, is_active=True).order_by("full_name")
        return ([(f"user:{u.pk}", u.full_name or u.email) for u in users]
                + [(f"role:{r.pk}", f"Every {r.name}") for r in Role.objects.filter(archived_at__isnull=True)
                   .exclude(code="customer").order_by("name")])

    def template(self, pk) -> ApprovalTemplate:
        obj = ApprovalTemplate.objects.filter(pk=pk, archived_at__isnull=True).first()
        if obj is None:
            raise Http404
        return obj

    def page(self, request, obj, formset, status=200):
        return render(request, "core/template_approvers.html", {"object": obj, "formset": formset}, status=status)

    def get(self, request, pk):
        obj = self.template(pk)
        current = [{"who": f"user:{a.user_id}" if a.user_id else f"role:{a.role_id}", "required": a.required,
                    "position": a.position} for a in obj.approvers.filter(archived_at__isnull=True)]
        formset = ApproverRows(initial=current + [{"required": True}] * 3,
                               form_kwargs={"choices": self.choices(request)})
        return self.page(request, obj, formset)

    def post(self, request, pk):
        from traveler.core.models import Role

        obj = self.template(pk)
        formset = ApproverRows(request.POST, form_kwargs={"choices": self.choices(request)})
        if not formset.is_valid():
            return self.page(request, obj, formset, status=400)
        rows = []
        for i, d in enumerate(f.cleaned_data for f in formset.forms if f.cleaned_data.get("who")):
            kind, _, ident = d["who"].partition(":")
            target = {"user": User.objects.get(pk=ident)} if kind == "user" else {"role": Role.objects.get(pk=ident)}
            rows.append({**target, "required": d["required"], "position": d.get("position") or i + 1})
        try:
            approval_template_set_approvers(template=obj, approvers=rows, reason="Default approvers changed")
        except TravelerError as exc:
            formset._non_form_errors = formset.error_class([exc.message])
            return self.page(request, obj, formset, status=exc.status)
        messages.success(request, f"Default approvers of “{obj}” saved. Requests already made keep theirs.")
        return HttpResponseRedirect(reverse("core:approvaltemplate-detail", args=[obj.pk]))


urlpatterns = [
    path("approval-templates/<int:pk>/approvers/", TemplateApprovers.as_view(), name="approvaltemplate-approvers"),
    *record_urls("approval-templates/", ApprovalTemplate, list=TemplateList, detail=TemplateDetail, form=TemplateEdit,
                 archive=True, restore=True, history=True),
]

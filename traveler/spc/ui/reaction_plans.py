"""The reaction plan page of a characteristic: what a signal of it does (notify, hold the parts,
stop the step, ask for a nonconformance or a CAPA), read by everyone who reads signals and saved
through ``reaction_plan_save`` by those who may change it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from traveler.core.errors import TravelerError
from traveler.core.models import Role, User
from traveler.core.tenancy import current_tenant
from traveler.core.ui.generic import ShellView, add_service_error
from traveler.spc.choices import SignalSeverity
from traveler.spc.services import characteristics as chars
from traveler.spc.services import signals as svc
from traveler.spc.services.characteristics import definition_or_404
from traveler.spc.ui.characteristics import _head

VIEW, CHANGE = "spc.view_spcsignal", "spc.change_reactionplan"


def _members():
    return (User.objects.filter(memberships__tenant_id=current_tenant().pk, memberships__is_active=True,
                                memberships__accepted_at__isnull=False, is_active=True)
            .distinct().order_by("full_name", "email"))


class ReactionPlanForm(forms.Form):
    notify_roles = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                             label="Notify these roles")
    notify_users = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                                  label="And these people")
    hold_parts = forms.BooleanField(required=False, label="Hold the parts of the subgroups involved")
    hold_step = forms.BooleanField(required=False, label="Stop the step for new parts until a signed acknowledgement")
    open_nonconformance = forms.BooleanField(required=False, label="Open a nonconformance (quality module)")
    open_capa = forms.BooleanField(required=False, label="Open a CAPA (quality module)")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Owner of what is opened",
                                   help_text="Empty: the first QA manager.")
    severity = forms.ChoiceField(choices=SignalSeverity.choices)
    instructions = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="Sent with the notification.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Reason for change", help_text="Stored with the change in the plan's history.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notify_roles"].choices = list(
            Role.objects.filter(archived_at__isnull=True).order_by("name").values_list("code", "name"))
        members = _members()
        self.fields["notify_users"].queryset = members
        self.fields["owner"].queryset = members

    def plan_data(self) -> dict:
        d = self.cleaned_data
        return {k: d[k] for k in ("notify_roles", "notify_users", "hold_parts", "hold_step", "open_nonconformance",
                                  "open_capa", "owner", "severity", "instructions")}


class ReactionPlanPage(ShellView):
    permission = VIEW

    def page(self, request, d, plan, form, status=200):
        c = chars.characteristic_for(d)
        return render(request, "spc/reaction_plan.html", {
            **_head(request, d, c), "plan": plan, "form": form, "can_change": request.access.has(CHANGE),
            "users": svc.plan_users(plan)}, status=status)

    def get(self, request, definition):
        d = definition_or_404(definition)
        plan = svc.reaction_plan_for(d)
        initial = {k: getattr(plan, k) for k in ("notify_roles", "hold_parts", "hold_step", "open_nonconformance",
                                                 "open_capa", "owner", "severity", "instructions")}
        initial.update(notify_users=svc.plan_users(plan), version=plan.version if plan.pk else None)
        return self.page(request, d, plan, ReactionPlanForm(initial=initial))

    def post(self, request, definition):
        from traveler.core.access import check

        check(request.access, request.user, CHANGE)
        d = definition_or_404(definition)
        plan = svc.reaction_plan_for(d)
        form = ReactionPlanForm(request.POST)
        if not form.is_valid():
            return self.page(request, d, plan, form, status=400)
        try:
            svc.reaction_plan_save(definition=d, data=form.plan_data(),
                                   version=form.cleaned_data.get("version") if plan.pk else None,
                                   reason=form.cleaned_data.get("reason") or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(request, d, plan, form, status=409 if exc.status == 409 else 400)
        messages.success(request, f"Reaction plan of {d.label} saved.")
        return HttpResponseRedirect(reverse("spc:characteristic-reaction-plan", args=[d.pk]))

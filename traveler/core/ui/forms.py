"""Forms of the platform's pages. They parse input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.conf import settings

from traveler.core.models import Company, Role
from traveler.core.registry import registry


class SignInForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={
        "autocomplete": "username", "autofocus": True, "inputmode": "email", "autocapitalize": "none",
        "spellcheck": "false"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "kind", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


def _role_choices() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in Role.objects.filter(archived_at__isnull=True).order_by("name")]


def _company_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Company.objects.filter(archived_at__isnull=True).order_by("name"), required=False,
        empty_label="No company", help_text="Required for customer users: they see only this company's records.")


class MemberAddForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off", "inputmode": "email"}))
    full_name = forms.CharField(max_length=200, required=False,
                                help_text="Not needed when the person already has an account.")
    password = forms.CharField(
        strip=False, required=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Initial password for a new account (at least 12 characters). Leave blank for an existing account.")
    roles = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices()
        self.fields["company"] = _company_field()


class MemberRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label="Reason for change", max_length=1000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = _role_choices()
        self.fields["company"] = _company_field()
        self.order_fields(["roles", "company", "reason"])


class RolePermissionsForm(forms.Form):
    permissions = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label="Reason for change", max_length=1000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Stored with the change in the role's history.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(p.code, p.label) for p in registry.permissions.values()]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, initial="API token",
                           help_text="What the token is for, e.g. “CMM export” or “ERP sync”.")
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=366,
                              initial=settings.TRAVELER_API_TOKEN_DAYS)

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
    full_name = forms.CharField(max_length=200,
                                help_text="Used if the address has no account yet; an existing account keeps its name.")
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
                           help_text="What the token is for, e.g. “CMM export” or “ERP sync”. One live token per name.")
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=366,
                              initial=settings.TRAVELER_API_TOKEN_DAYS)
    replace = forms.BooleanField(label="Replace an existing token (rotate)", required=False,
                                 help_text="Rotation: the old value stops working at once.")


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text="At least 12 characters; not a common password, not only digits.")
    new_password_again = forms.CharField(strip=False, label="New password, again",
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        d = super().clean()
        if d.get("new_password") and d.get("new_password_again") and d["new_password"] != d["new_password_again"]:
            self.add_error("new_password_again", "The two passwords differ.")
        return d


class PasswordSetForm(forms.Form):
    password = forms.CharField(strip=False, label="New password",
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
                               help_text="At least 12 characters; not a common password, not only digits.")
    password_again = forms.CharField(strip=False, label="New password, again",
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        d = super().clean()
        if d.get("password") and d.get("password_again") and d["password"] != d["password_again"]:
            self.add_error("password_again", "The two passwords differ.")
        return d

"""The platform's pages, mounted at the site root (app namespace "core")."""

from django.urls import path

from traveler.core.ui import (
    account,
    approval_templates,
    approvals,
    companies,
    documents,
    notifications,
    roles,
    system,
    tokens,
    users,
    views,
)

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("tenant/switch/", views.tenant_switch, name="tenant-switch"),
    *companies.urlpatterns,
    *documents.urlpatterns,
    *users.urlpatterns,
    *roles.urlpatterns,
    *system.urlpatterns,
    *tokens.urlpatterns,
    *account.urlpatterns,
    *approvals.urlpatterns,
    *approval_templates.urlpatterns,
    *notifications.urlpatterns,
]

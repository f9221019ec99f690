"""Signatures and approvals through the HTTP API: passwords at every signing, roles, tenant walls."""

from __future__ import annotations

import pytest

from traveler.core.models import Company, LoginAttempt, Signature
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, ApiClient, make_company, make_member
from traveler.core.tests.registering import approvable


@pytest.fixture
def approvable_company():
    with approvable(Company, permission="core.change_company"):
        yield


@pytest.fixture
def company(tenant):
    return make_company(tenant, name="Northwind Diesel")


def client_for(tenant, role, **kw):
    user = make_member(tenant, roles=[role], **kw)
    return user, ApiClient().as_user(user, tenant)


def test_an_api_token_alone_cannot_sign(tenant, company, approvable_company):
    """21 CFR 11.200(a)(1), 11.300: the token authenticates the session; the signing call needs the password."""
    user, api = client_for(tenant, "qa_manager")
    body = {"record_type": "core.company", "record_id": company.pk, "meaning": "approved"}
    r = api.post("/api/v1/core/signatures/", body, format="json")
    assert r.status_code == 400 and "password" in r.json()["error"]["fields"]
    r = api.post("/api/v1/core/signatures/", {**body, "password": "wrong"}, format="json")
    assert r.status_code == 401
    assert LoginAttempt.objects.filter(email=user.email, succeeded=False, purpose="signature").count() == 1
    r = api.post("/api/v1/core/signatures/", {**body, "password": PASSWORD, "comment": "Checked"}, format="json")
    assert r.status_code == 201, r.content
    sig = r.json()
    assert sig["printed_name"] == user.full_name and sig["meaning_label"] == "Approved"
    assert sig["signed_at"].endswith("UTC") and len(sig["content_hash"]) == 64
    listed = api.get(f"/api/v1/core/signatures/?record_type=core.company&record_id={company.pk}").json()
    assert [s["id"] for s in listed] == [sig["id"]]


def test_an_auditor_reads_signatures_and_signs_nothing(tenant, company, approvable_company):
    """Seed 001 section 8: the Auditor is read-only."""
    _, auditor = client_for(tenant, "auditor")
    r = auditor.post("/api/v1/core/signatures/", {"record_type": "core.company", "record_id": company.pk,
                                                  "meaning": "approved", "password": PASSWORD}, format="json")
    assert r.status_code == 403
    assert auditor.get(f"/api/v1/core/signatures/?record_type=core.company&record_id={company.pk}").status_code == 200
    with tenant_context(tenant):
        assert not Signature.objects.exists()


def test_customers_see_no_signatures(tenant, company, approvable_company):
    _, customer = client_for(tenant, "customer", company=company)
    assert customer.get(f"/api/v1/core/signatures/?record_type=core.company&record_id={company.pk}").status_code == 403


def test_another_tenants_record_cannot_be_signed_or_read(tenant, other_tenant, approvable_company):
    theirs = make_company(other_tenant, name="Rival")
    _, api = client_for(tenant, "qa_manager")
    r = api.post("/api/v1/core/signatures/", {"record_type": "core.company", "record_id": theirs.pk,
                                              "meaning": "approved", "password": PASSWORD}, format="json")
    assert r.status_code == 404
    assert api.get(f"/api/v1/core/signatures/?record_type=core.company&record_id={theirs.pk}").status_code == 404


def test_unsignable_record_type_is_a_clear_400(tenant, company):
    _, api = client_for(tenant, "qa_manager")
    r = api.post("/api/v1/core/signatures/", {"record_type": "core.role", "record_id": 1, "meaning": "approved",
                                              "password": PASSWORD}, format="json")
    assert r.status_code == 400 and "record_type" in r.json()["error"]["fields"]


def test_request_respond_and_inbox_through_the_api(tenant, company, approvable_company):
    _, admin = client_for(tenant, "document_controller")
    a, api_a = client_for(tenant, "qa_manager", full_name="Ann Approver")
    b, api_b = client_for(tenant, "qa_manager", full_name="Bob Approver")
    requester, api_r = client_for(tenant, "production_manager")
    t = admin.post("/api/v1/core/approval-templates/", {
        "name": "Supplier approval", "template_type": "document_release", "order": "sequential",
        "approvers": [{"user": a.pk}, {"user": b.pk}]}, format="json")
    assert t.status_code == 201, t.content
    assert [x["user"] for x in t.json()["approvers"]] == [a.pk, b.pk]
    r = api_r.post("/api/v1/core/approval-requests/", {"record_type": "core.company", "record_id": company.pk,
                                                       "template": t.json()["id"], "notes": "Please"}, format="json")
    assert r.status_code == 201, r.content
    req = r.json()
    assert req["status"] == "pending" and req["waiting_for"] == [a.pk]
    assert [x["id"] for x in api_a.get("/api/v1/core/approval-requests/?waiting=me").json()["results"]] == [req["id"]]
    assert api_b.get("/api/v1/core/approval-requests/?waiting=me").json()["results"] == []
    url = f"/api/v1/core/approval-requests/{req['id']}/"
    assert api_b.post(url + "respond/", {"decision": "approved", "password": PASSWORD}, format="json").status_code == 409
    r = api_a.post(url + "respond/", {"decision": "approved"}, format="json")
    assert r.status_code == 400
    r = api_a.post(url + "respond/", {"decision": "approved", "password": PASSWORD}, format="json")
    assert r.status_code == 200 and r.json()["waiting_for"] == [b.pk]
    r = api_b.post(url + "respond/", {"decision": "approved", "password": PASSWORD}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert [x["decision"] for x in r.json()["responses"]] == ["approved", "approved"]


def test_only_the_requester_cancels_and_with_a_reason(tenant, company, approvable_company):
    a, _ = client_for(tenant, "qa_manager")
    _, api_r = client_for(tenant, "production_manager")
    _, stranger = client_for(tenant, "operator")
    _, admin = client_for(tenant, "document_controller")
    t = admin.post("/api/v1/core/approval-templates/", {"name": "T", "template_type": "eco",
                                                        "approvers": [{"user": a.pk}]}, format="json").json()
    req = api_r.post("/api/v1/core/approval-requests/", {"record_type": "core.company", "record_id": company.pk,
                                                         "template": t["id"]}, format="json").json()
    url = f"/api/v1/core/approval-requests/{req['id']}/cancel/"
    assert stranger.post(url, {"reason": "mine now"}, format="json").status_code == 403
    assert api_r.post(url, {}, format="json").status_code == 400
    r = api_r.post(url, {"reason": "Wrong revision"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["outcome_reason"] == "Wrong revision"


def test_threshold_template_needs_its_number(tenant):
    _, admin = client_for(tenant, "document_controller")
    r = admin.post("/api/v1/core/approval-templates/", {"name": "T", "template_type": "eco", "flow": "threshold"},
                   format="json")
    assert r.status_code == 400 and "threshold" in r.json()["error"]["fields"]
    r = admin.post("/api/v1/core/approval-templates/", {"name": "T", "template_type": "nope"}, format="json")
    assert r.status_code == 400 and "template_type" in r.json()["error"]["fields"]


def test_operators_and_auditors_cannot_manage_templates(tenant):
    for role in ("operator", "auditor", "customer"):
        _, api = client_for(tenant, role, company=make_company(tenant) if role == "customer" else None)
        r = api.post("/api/v1/core/approval-templates/", {"name": "T", "template_type": "eco"}, format="json")
        assert r.status_code == 403, role


def test_company_unregistered_is_not_approvable(tenant, company):
    a, _ = client_for(tenant, "qa_manager")
    _, api_r = client_for(tenant, "production_manager")
    _, admin = client_for(tenant, "document_controller")
    t = admin.post("/api/v1/core/approval-templates/", {"name": "T", "template_type": "eco",
                                                        "approvers": [{"user": a.pk}]}, format="json").json()
    r = api_r.post("/api/v1/core/approval-requests/", {"record_type": "core.company", "record_id": company.pk,
                                                       "template": t["id"]}, format="json")
    assert r.status_code == 400 and "record_type" in r.json()["error"]["fields"]



def test_a_slug_with_a_nul_character_is_bad_input_not_a_server_error():
    """PostgreSQL cannot compare text holding NUL: the slug relation says 400 before it queries."""
    from rest_framework.exceptions import ValidationError

    from traveler.core.api.base import SlugRelatedField
    from traveler.core.models import Role

    field = SlugRelatedField(slug_field="code", queryset=Role.objects.all())
    with pytest.raises(ValidationError, match="Invalid value"):
        field.to_internal_value("qa_manager\x00")

"""Pages of signatures and approvals: the manifestation on the record's page, the signing dialog,
"My approvals", the request page and its forms."""

from __future__ import annotations

import pytest

from traveler.core.models import ApprovalRequest, Company, Signature
from traveler.core.services.approval_templates import approval_template_create
from traveler.core.services.approvals import approval_request_create
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.core.tests.registering import approvable
from traveler.core.tests.test_ui_shell import signed_in


@pytest.fixture
def approvable_company():
    """Companies become approvable, with the panel on their page, for these tests."""
    with approvable(Company, permission="core.change_company", detail_target="core.company.detail"):
        yield


@pytest.fixture
def company(tenant):
    return make_company(tenant, name="Northwind Diesel")


@pytest.fixture
def people(tenant):
    return {"requester": make_member(tenant, roles=["production_manager"], full_name="Rita Requester"),
            "a": make_member(tenant, roles=["qa_manager"], full_name="Ann Approver"),
            "b": make_member(tenant, roles=["qa_manager"], full_name="Bob Approver"),
            "auditor": make_member(tenant, roles=["auditor"], full_name="Audrey Auditor")}


def test_signing_dialog_shows_what_is_signed_and_the_page_shows_the_manifestation(tenant, company, people,
                                                                                   approvable_company):
    """21 CFR 11.50: printed name, date and time, and meaning shown with the signed record."""
    c = signed_in(people["a"], tenant)
    page = c.get(f"/sign/core.company/{company.pk}/?next=/companies/{company.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Northwind Diesel" in html and f"version {company.version}" in html and "SHA-256" in html
    bad = c.post(f"/sign/core.company/{company.pk}/", {"meaning": "approved", "password": "wrong",
                                                       "version": company.version})
    assert bad.status_code == 401 and "not correct" in bad.content.decode()
    ok = c.post(f"/sign/core.company/{company.pk}/", {"meaning": "approved", "password": PASSWORD,
                                                      "version": company.version, "comment": "Audit passed",
                                                      "next": f"/companies/{company.pk}/"})
    assert ok.status_code == 302 and ok["Location"] == f"/companies/{company.pk}/"
    detail = signed_in(people["auditor"], tenant).get(f"/companies/{company.pk}/").content.decode()
    assert "Signatures and approvals" in detail
    assert "Ann Approver" in detail and "Approved" in detail and " UTC" in detail and "Audit passed" in detail


def test_auditor_cannot_open_the_signing_dialog(tenant, company, people, approvable_company):
    c = signed_in(people["auditor"], tenant)
    assert c.get(f"/sign/core.company/{company.pk}/").status_code == 403
    assert c.post(f"/sign/core.company/{company.pk}/", {"meaning": "approved", "password": PASSWORD,
                                                        "version": 1}).status_code == 403
    with tenant_context(tenant):
        assert not Signature.objects.exists()


def test_request_inbox_respond_on_the_request_page(tenant, company, people, approvable_company):
    with tenant_context(tenant):
        t = approval_template_create(data={"name": "Supplier", "template_type": "document_release", "order": "sequential"},
                                     approvers=[{"user": people["a"]}, {"user": people["b"]}])
    r = signed_in(people["requester"], tenant)
    new = r.post(f"/approvals/new/core.company/{company.pk}/", {"template": t.pk, "notes": "New supplier", "start": "on"})
    assert new.status_code == 302
    with tenant_context(tenant):
        req = ApprovalRequest.objects.get()
    a, b = signed_in(people["a"], tenant), signed_in(people["b"], tenant)
    assert "Northwind Diesel" in a.get("/approvals/").content.decode()
    assert "Nothing waits for your approval" in b.get("/approvals/").content.decode()
    page = a.get(f"/approvals/{req.pk}/").content.decode()
    assert "Your decision" in page
    assert "Your decision" not in b.get(f"/approvals/{req.pk}/").content.decode()
    missing = a.post(f"/approvals/{req.pk}/", {"action": "respond", "decision": "rejected", "password": PASSWORD})
    assert missing.status_code == 400 and "Say why" in missing.content.decode()
    done = a.post(f"/approvals/{req.pk}/", {"action": "respond", "decision": "approved", "password": PASSWORD})
    assert done.status_code == 302
    page = b.get(f"/approvals/{req.pk}/").content.decode()
    assert "Ann Approver</strong> — Approved" in page and "Your decision" in page
    b.post(f"/approvals/{req.pk}/", {"action": "respond", "decision": "approved", "password": PASSWORD})
    page = r.get(f"/approvals/{req.pk}/").content.decode()
    assert "badge-approved" in page and "Bob Approver</strong> — Approved" in page


def test_cancel_from_the_request_page_needs_a_reason(tenant, company, people, approvable_company):
    with tenant_context(tenant, actor=people["requester"]):
        t = approval_template_create(data={"name": "X", "template_type": "eco"}, approvers=[{"user": people["a"]}])
        req = approval_request_create(record=company, template=t, requested_by=people["requester"])
    r = signed_in(people["requester"], tenant)
    assert r.post(f"/approvals/{req.pk}/", {"action": "cancel", "reason": ""}).status_code == 400
    assert r.post(f"/approvals/{req.pk}/", {"action": "cancel", "reason": "Wrong record"}).status_code == 302
    with tenant_context(tenant):
        assert ApprovalRequest.objects.get(pk=req.pk).status == "cancelled"


def test_another_tenants_request_is_not_found(tenant, other_tenant, company, people, approvable_company):
    theirs = make_company(other_tenant)
    with tenant_context(other_tenant):
        requester = make_member(other_tenant, roles=["qa_manager"])
        approver = make_member(other_tenant, roles=["qa_manager"])
    with tenant_context(other_tenant, actor=requester):
        t = approval_template_create(data={"name": "X", "template_type": "eco"}, approvers=[{"user": approver}])
        req = approval_request_create(record=theirs, template=t, requested_by=requester)
    c = signed_in(people["a"], tenant)
    assert c.get(f"/approvals/{req.pk}/").status_code == 404
    assert c.get(f"/sign/core.company/{theirs.pk}/").status_code == 404


def test_template_pages(tenant, people):
    admin = make_member(tenant, roles=["document_controller"])
    c = signed_in(admin, tenant)
    assert c.get("/approval-templates/").status_code == 200
    created = c.post("/approval-templates/new/", {"name": "Release", "template_type": "document_release",
                                                  "flow": "all_required", "order": "parallel", "sla_days": 5})
    assert created.status_code == 302, created.content.decode()[:2000]
    assert signed_in(people["auditor"], tenant).get("/approval-templates/new/").status_code == 403


def test_approval_record_pdf_carries_the_manifestation(tenant, company, people, approvable_company, tmp_path):
    """21 CFR 11.50(b): the printed record shows name, date and time, and meaning of each signature."""
    import io

    from pypdf import PdfReader

    from traveler.core.services.approvals import approval_respond

    with tenant_context(tenant, actor=people["requester"]):
        t = approval_template_create(data={"name": "Supplier", "template_type": "eco"}, approvers=[{"user": people["a"]}])
        req = approval_request_create(record=company, template=t, requested_by=people["requester"])
    with tenant_context(tenant, actor=people["a"]):
        approval_respond(request=req, user=people["a"], password=PASSWORD, decision="approved", comment="Fine")
    response = signed_in(people["auditor"], tenant).get(f"/approvals/{req.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    (tmp_path / "approval.pdf").write_bytes(response.content)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Ann Approver - Approved - " in text and " UTC" in text
    assert "Signed version 1" in text and "SHA-256" in text and "Northwind Diesel" in text


def test_default_approvers_are_edited_on_their_page(tenant, people):
    from traveler.core.models import ApprovalTemplateApprover, Role

    admin = make_member(tenant, roles=["document_controller"])
    with tenant_context(tenant):
        t = approval_template_create(data={"name": "Release", "template_type": "eco"})
        qa = Role.objects.get(code="qa_manager")
    c = signed_in(admin, tenant)
    form = c.get(f"/approval-templates/{t.pk}/approvers/")
    assert form.status_code == 200 and "Every QA Manager" in form.content.decode()
    r = c.post(f"/approval-templates/{t.pk}/approvers/", {
        "form-TOTAL_FORMS": 3, "form-INITIAL_FORMS": 0,
        "form-0-who": f"user:{people['a'].pk}", "form-0-required": "on", "form-0-position": 1,
        "form-1-who": f"role:{qa.pk}", "form-1-position": 2,
        "form-2-who": ""})
    assert r.status_code == 302
    with tenant_context(tenant):
        rows = list(ApprovalTemplateApprover.objects.filter(template=t, archived_at__isnull=True)
                    .values_list("user_id", "role_id", "required", "position"))
    assert rows == [(people["a"].pk, None, True, 1), (None, qa.pk, False, 2)]
    detail = c.get(f"/approval-templates/{t.pk}/").content.decode()
    assert "Ann Approver" in detail and "Every QA Manager" in detail
    assert signed_in(people["auditor"], tenant).get(f"/approval-templates/{t.pk}/approvers/").status_code == 403


def test_a_draft_request_gets_its_approvers_changed_then_started(tenant, company, people, approvable_company):
    with tenant_context(tenant):
        t = approval_template_create(data={"name": "Supplier", "template_type": "eco"}, approvers=[{"user": people["a"]}])
    r = signed_in(people["requester"], tenant)
    assert r.post(f"/approvals/new/core.company/{company.pk}/", {"template": t.pk}).status_code == 302  # start unticked
    with tenant_context(tenant):
        req = ApprovalRequest.objects.get()
    assert req.status == "draft"
    page = r.get(f"/approvals/{req.pk}/").content.decode()
    assert "Approvers of this draft" in page and "Start the request" in page
    saved = r.post(f"/approvals/{req.pk}/", {"action": "approvers", "form-TOTAL_FORMS": 2, "form-INITIAL_FORMS": 0,
                                             "form-0-user": people["b"].pk, "form-0-required": "on",
                                             "form-1-user": ""})
    assert saved.status_code == 302
    assert r.post(f"/approvals/{req.pk}/", {"action": "start"}).status_code == 302
    with tenant_context(tenant):
        req = ApprovalRequest.objects.get(pk=req.pk)
        assert req.status == "pending" and [p.user_id for p in req.approvers.filter(archived_at__isnull=True)] == [people["b"].pk]
    assert "Your decision" in signed_in(people["b"], tenant).get(f"/approvals/{req.pk}/").content.decode()
    assert "Your decision" not in signed_in(people["a"], tenant).get(f"/approvals/{req.pk}/").content.decode()

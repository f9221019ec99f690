"""Document control pages: the library, a document's page, upload, transitions, previews, export clearance."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from traveler.core.models import Document, DocumentDownload, DocumentRevision, History, Membership
from traveler.core.services.users import member_set_export_clearance
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PDF, PNG, make_company, make_document, make_member, make_revision
from traveler.core.tests.test_ui_shell import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def controller(tenant):
    return make_member(tenant, roles=["document_controller"])


def test_library_search_and_filters(tenant, controller):
    sop = make_document(tenant, by=controller, code="SOP", title="Torque the injector nozzle")
    make_revision(tenant, sop, by=controller, release=True)
    report = make_document(tenant, by=controller, code="RPT", title="Leak test report")
    make_revision(tenant, report, by=controller)
    other_owner = make_member(tenant, roles=["qa_manager"])
    cert = make_document(tenant, by=other_owner, code="CERT", title="Material certificate", classification="public")
    client = signed_in(make_member(tenant, roles=["auditor"]), tenant)

    def listed(**params) -> set[str]:
        html = client.get("/documents/", params).content.decode()
        return {d.number for d in (sop, report, cert) if d.number in html}

    assert listed() == {sop.number, report.number, cert.number}
    assert listed(q="injector") == {sop.number}
    assert listed(q=report.number) == {report.number}
    with tenant_context(tenant):
        assert listed(document_type=str(sop.document_type_id)) == {sop.number}
    assert listed(state="released") == {sop.number}
    assert listed(state="draft") == {report.number}
    assert listed(owner=str(other_owner.pk)) == {cert.number}
    assert listed(classification="public") == {cert.number}
    assert listed(review="due") == set()
    with tenant_context(tenant):
        from django.utils import timezone

        Document.objects.filter(pk=sop.pk).update(review_due_at=timezone.now())
    assert listed(review="due") == {sop.number}


def test_menu_has_documents_for_staff_not_for_customers(tenant):
    staff = signed_in(make_member(tenant, roles=["operator"]), tenant)
    assert 'href="/documents/"' in staff.get("/?menu=1").content.decode()
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert 'href="/documents/"' not in customer.get("/?menu=1").content.decode()
    assert customer.get("/documents/").status_code == 403


def test_create_upload_submit_release_on_the_pages(tenant, controller):
    client = signed_in(controller, tenant)
    with tenant_context(tenant):
        from traveler.core.models import DocumentType

        cert = DocumentType.objects.get(code="CERT")
    r = client.post("/documents/new/", {"document_type": cert.pk, "title": "Heat treatment certificate",
                                        "classification": "internal"})
    assert r.status_code == 302
    with tenant_context(tenant):
        doc = Document.objects.get(title="Heat treatment certificate")
    assert doc.owner == controller
    r = client.post(f"/documents/{doc.pk}/upload/", {"file": SimpleUploadedFile("cert.pdf", PDF),
                                                     "change_description": "as received"})
    assert r.status_code == 302
    with tenant_context(tenant):
        rev = DocumentRevision.objects.get(document=doc)
    assert rev.label == "A" and rev.change_description == "as received"
    client.post(f"/documents/revisions/{rev.pk}/submit/")
    client.post(f"/documents/revisions/{rev.pk}/release/", {"reason": "checked against the order"})
    with tenant_context(tenant):
        rev.refresh_from_db()
    assert rev.state == "released"
    html = client.get(f"/documents/{doc.pk}/").content.decode()
    assert "Revisions" in html and "cert.pdf" in html and "Released" in html
    assert f'src="/documents/revisions/{rev.pk}/preview/"' in html  # the inline preview of the released PDF
    r = client.get(f"/documents/revisions/{rev.pk}/preview/")
    assert r["Content-Type"] == "application/pdf" and r["Content-Disposition"].startswith("inline;")
    html = client.get(f"/documents/{doc.pk}/").content.decode()
    assert "Preview" in html and controller.full_name in html.split("Downloads")[-1]


def test_upload_form_shows_the_limit_error(tenant, controller, settings):
    doc = make_document(tenant, by=controller)
    settings.TRAVELER_UPLOAD_MAX_BYTES = 50
    client = signed_in(make_member(tenant, roles=["engineering"]), tenant)
    r = client.post(f"/documents/{doc.pk}/upload/", {"file": SimpleUploadedFile("big.pdf", PDF)})
    assert r.status_code == 400
    assert "upload limit of 50 bytes" in r.content.decode()
    with tenant_context(tenant):
        assert not DocumentRevision.objects.filter(document=doc).exists()


def test_roles_without_the_permission_cannot_upload_or_release(tenant, controller):
    doc = make_document(tenant, by=controller)
    rev = make_revision(tenant, doc, by=controller)
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    assert operator.get(f"/documents/{doc.pk}/").status_code == 200
    assert operator.get(f"/documents/{doc.pk}/upload/").status_code == 403
    assert operator.post(f"/documents/revisions/{rev.pk}/submit/").status_code == 403
    engineer = signed_in(make_member(tenant, roles=["engineering"]), tenant)
    engineer.post(f"/documents/revisions/{rev.pk}/submit/")
    assert engineer.post(f"/documents/revisions/{rev.pk}/release/").status_code == 403
    with tenant_context(tenant):
        assert DocumentRevision.objects.get(pk=rev.pk).state == "in_review"


def test_export_controlled_documents_are_404_on_every_page(tenant, controller):
    secret = make_document(tenant, by=controller, title="Seeker head drawing", classification="itar")
    rev = make_revision(tenant, secret, by=controller, content=PNG, name="seeker.png", release=True)
    client = signed_in(make_member(tenant, roles=["tenant_admin"]), tenant)
    assert secret.number not in client.get("/documents/").content.decode()
    assert secret.number not in client.get("/documents/", {"q": "Seeker"}).content.decode()
    assert secret.number not in client.get("/documents/", {"classification": "itar"}).content.decode()
    for url in (f"/documents/{secret.pk}/", f"/documents/{secret.pk}/edit/", f"/documents/{secret.pk}/history/",
                f"/documents/{secret.pk}/upload/", f"/documents/revisions/{rev.pk}/download/",
                f"/documents/revisions/{rev.pk}/preview/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/documents/revisions/{rev.pk}/obsolete/", {"reason": "x"}).status_code in (403, 404)
    with tenant_context(tenant):
        assert not DocumentDownload.objects.filter(revision=rev).exists()
        assert DocumentRevision.objects.get(pk=rev.pk).state == "released"


def test_a_tenant_admin_clears_a_user_with_a_reason(tenant, admin):
    user = make_member(tenant, roles=["engineering"])
    with tenant_context(tenant):
        m = Membership.objects.get(tenant=tenant, user=user)
    client = signed_in(admin, tenant)
    html = client.get(f"/users/{m.pk}/").content.decode()
    assert "Export clearance" in html and "Clear for export-controlled documents" in html
    client.post(f"/users/{m.pk}/export-clearance/", {"cleared": "true", "reason": ""})
    with tenant_context(tenant):
        assert not Membership.objects.get(pk=m.pk).export_cleared  # no reason, no change
    client.post(f"/users/{m.pk}/export-clearance/", {"cleared": "true", "reason": "licence DSP-5 on file"})
    with tenant_context(tenant):
        assert Membership.objects.get(pk=m.pk).export_cleared
        h = History.objects.filter(table_name="core_membership", record_id=str(m.pk)).order_by("-id")[0]
        assert h.reason == "licence DSP-5 on file" and h.actor_id == admin.pk
    with tenant_context(tenant):
        own = Membership.objects.get(tenant=tenant, user=admin)
    assert "Clear for export-controlled" not in client.get(f"/users/{own.pk}/").content.decode()
    controller_client = signed_in(make_member(tenant, roles=["document_controller"]), tenant)
    assert "Clear for export-controlled" not in controller_client.get(f"/users/{m.pk}/").content.decode()
    r = controller_client.post(f"/users/{m.pk}/export-clearance/", {"cleared": "false", "reason": "x"})
    assert r.status_code == 403


def test_a_cleared_user_sees_the_export_controlled_document(tenant, controller, admin):
    secret = make_document(tenant, by=controller, title="Seeker head drawing", classification="ear")
    user = make_member(tenant, roles=["auditor"])
    with tenant_context(tenant, actor=admin):
        member_set_export_clearance(membership=Membership.objects.get(tenant=tenant, user=user), cleared=True,
                                    reason="checked")
    client = signed_in(user, tenant)
    assert secret.number in client.get("/documents/").content.decode()
    html = client.get(f"/documents/{secret.pk}/").content.decode()
    assert "EAR (export controlled)" in html

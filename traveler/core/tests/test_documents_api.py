"""Document control through the HTTP API: who may do what, export-controlled documents that do not
exist for users who are not cleared, uploads, downloads (recorded), transitions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from traveler.core.models import DocumentDownload, Membership
from traveler.core.services.users import member_set_export_clearance
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import (
    PDF,
    PNG,
    ApiClient,
    make_company,
    make_document,
    make_member,
    make_revision,
)

API = "/api/v1/core"


def client_for(tenant, role, *, cleared=False, company=None):
    user = make_member(tenant, roles=[role], company=company)
    if cleared:
        with tenant_context(tenant, actor=make_member(tenant, roles=["tenant_admin"])):
            member_set_export_clearance(membership=Membership.objects.get(tenant=tenant, user=user), cleared=True,
                                        reason="checked")
    return ApiClient().as_user(user, tenant), user


@pytest.fixture
def controller(tenant):
    return make_member(tenant, roles=["document_controller"])


def test_create_upload_submit_release_download(tenant):
    api, user = client_for(tenant, "document_controller")
    r = api.post(f"{API}/documents/", {"document_type": "RPT", "title": "Leak test report"}, format="json")
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert doc["number"].startswith("RPT-") and doc["owner"]["id"] == user.pk and doc["classification"] == "internal"
    r = api.post(f"{API}/documents/{doc['id']}/revisions/",
                 {"file": SimpleUploadedFile("report.txt", PDF, content_type="text/plain"),
                  "change_description": "first issue"}, format="multipart")
    assert r.status_code == 201, r.json()
    rev = r.json()
    assert (rev["label"], rev["state"], rev["media_type"], rev["size"]) == ("A", "draft", "application/pdf", len(PDF))
    assert api.post(f"{API}/document-revisions/{rev['id']}/submit/", {}, format="json").json()["state"] == "in_review"
    r = api.post(f"{API}/document-revisions/{rev['id']}/release/", {"reason": "checked"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "released"
    detail = api.get(f"{API}/documents/{doc['id']}/").json()
    assert detail["released_revision"]["label"] == "A"
    r = api.get(f"{API}/document-revisions/{rev['id']}/download/", REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == PDF
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment;") and "report.txt" in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    with tenant_context(tenant):
        d = DocumentDownload.objects.get(revision_id=rev["id"])
    assert (d.user_id, d.ip, d.inline) == (user.pk, "10.1.2.3", False)


def test_inline_preview_is_for_pdf_and_images_only(tenant, controller):
    api, user = client_for(tenant, "auditor")
    png = make_revision(tenant, make_document(tenant, by=controller), by=controller, content=PNG, name="photo.png")
    text = make_revision(tenant, make_document(tenant, by=controller), by=controller, content=b"plain words ",
                         name="notes.txt")
    r = api.get(f"{API}/document-revisions/{png.pk}/download/?inline=1")
    assert r["Content-Type"] == "image/png" and r["Content-Disposition"].startswith("inline;")
    assert r["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in r["Content-Security-Policy"]
    assert "script-src" not in r["Content-Security-Policy"]  # default-src 'none': no script runs in a preview
    r = api.get(f"{API}/document-revisions/{text.pk}/download/?inline=1")
    assert r["Content-Type"] == "text/plain" and r["Content-Disposition"].startswith("attachment;")
    with tenant_context(tenant):
        assert list(DocumentDownload.objects.filter(user=user).order_by("id").values_list("inline", flat=True)) == [
            True, False]


def test_upload_errors_name_the_field_and_the_limit(tenant, controller, settings):
    api, _ = client_for(tenant, "engineering")
    doc = make_document(tenant, by=controller)
    settings.TRAVELER_UPLOAD_MAX_BYTES = 100
    r = api.post(f"{API}/documents/{doc.pk}/revisions/",
                 {"file": SimpleUploadedFile("big.pdf", PDF + b"x" * 200)}, format="multipart")
    assert r.status_code == 400
    err = r.json()["error"]
    assert "upload limit of 100 bytes" in err["message"] and "TRAVELER_UPLOAD_MAX_BYTES" in err["message"]
    assert err["fields"] == {"file": ["larger than 100 bytes"]}
    settings.TRAVELER_UPLOAD_MAX_BYTES = 10_000
    r = api.post(f"{API}/documents/{doc.pk}/revisions/",
                 {"file": SimpleUploadedFile("setup.pdf", b"MZ\x90\x00\x03", content_type="application/pdf")},
                 format="multipart")
    assert r.status_code == 400 and "not accepted" in r.json()["error"]["message"]
    r = api.post(f"{API}/documents/{doc.pk}/revisions/", {"change_description": "no file"}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]
    assert api.get(f"{API}/documents/{doc.pk}/revisions/").json() == []


def test_a_type_that_requires_approval_is_not_released_directly(tenant, controller):
    api, _ = client_for(tenant, "document_controller")
    doc = make_document(tenant, by=controller, code="SOP")
    rev = make_revision(tenant, doc, by=controller)
    api.post(f"{API}/document-revisions/{rev.pk}/submit/", {}, format="json")
    r = api.post(f"{API}/document-revisions/{rev.pk}/release/", {}, format="json")
    assert r.status_code == 409
    assert "require approval" in r.json()["error"]["message"]


@pytest.mark.parametrize("role,view,manage,release", [
    ("tenant_admin", True, True, False),
    ("document_controller", True, True, True),
    ("qa_manager", True, True, True),
    ("engineering", True, True, False),
    ("qa_inspector", True, False, False),
    ("operator", True, False, False),
    ("production_manager", True, False, False),
    ("auditor", True, False, False),
    ("customer", False, False, False),
])
def test_permissions_of_each_role(tenant, controller, role, view, manage, release):
    company = make_company(tenant) if role == "customer" else None
    api, _ = client_for(tenant, role, company=company)
    doc = make_document(tenant, by=controller)
    rev = make_revision(tenant, doc, by=controller)
    ok = {True: (200, 201), False: (403,)}
    assert api.get(f"{API}/documents/").status_code in ok[view]
    assert api.get(f"{API}/documents/{doc.pk}/").status_code in ok[view]
    assert api.get(f"{API}/document-types/").status_code in ok[view]
    assert api.get(f"{API}/document-revisions/{rev.pk}/download/").status_code in ok[view]
    r = api.post(f"{API}/documents/", {"document_type": "RPT", "title": "By " + role}, format="json")
    assert r.status_code in ok[manage], r.json()
    r = api.post(f"{API}/documents/{doc.pk}/revisions/", {"file": SimpleUploadedFile("a.pdf", PDF + b"2")},
                 format="multipart")
    assert r.status_code in ok[manage]
    assert api.post(f"{API}/document-revisions/{rev.pk}/submit/", {}, format="json").status_code in ok[manage]
    r = api.post(f"{API}/document-revisions/{rev.pk}/obsolete/", {"reason": "test"}, format="json")
    assert r.status_code in ok[release]


@pytest.mark.parametrize("classification", ["itar", "ear"])
def test_export_controlled_documents_do_not_exist_for_users_not_cleared(tenant, controller, classification):
    secret = make_document(tenant, by=controller, title="Guidance kit seeker", classification=classification)
    rev = make_revision(tenant, secret, by=controller, release=True)
    public = make_document(tenant, by=controller, title="Guidance kit brochure", classification="public")
    for role in ("tenant_admin", "document_controller", "auditor", "system_admin"):
        api, user = client_for(tenant, role)
        listed = api.get(f"{API}/documents/", {"search": "Guidance"}).json()["results"]
        assert [d["id"] for d in listed] == [public.pk], role
        assert api.get(f"{API}/documents/{secret.pk}/").status_code == 404
        assert api.get(f"{API}/documents/{secret.pk}/revisions/").status_code == 404
        assert api.get(f"{API}/document-revisions/").json()["count"] == 0
        assert api.get(f"{API}/document-revisions/{rev.pk}/").status_code == 404
        r = api.get(f"{API}/document-revisions/{rev.pk}/download/")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert api.patch(f"{API}/documents/{secret.pk}/", {"title": "x", "version": 1},
                         format="json").status_code in (403, 404)
        with tenant_context(tenant):
            assert not DocumentDownload.objects.filter(user=user).exists()
    cleared, user = client_for(tenant, "auditor", cleared=True)
    listed = cleared.get(f"{API}/documents/", {"search": "Guidance"}).json()["results"]
    assert {d["id"] for d in listed} == {public.pk, secret.pk}
    assert cleared.get(f"{API}/document-revisions/{rev.pk}/download/").status_code == 200


def test_classification_changes_take_effect_at_once(tenant, controller):
    api, _ = client_for(tenant, "document_controller")
    doc = make_document(tenant, by=controller)
    r = api.put(f"{API}/documents/{doc.pk}/", {"document_type": "CERT", "title": "x", "version": 1}, format="json")
    assert r.status_code == 400 and "document_type" in r.json()["error"]["fields"]
    r = api.put(f"{API}/documents/{doc.pk}/", {"document_type": "RPT", "title": "Renamed", "version": 1},
                format="json")
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    r = api.patch(f"{API}/documents/{doc.pk}/", {"classification": "itar", "version": 2, "reason": "export review"},
                  format="json")
    assert r.status_code == 200
    assert api.get(f"{API}/documents/{doc.pk}/").status_code == 404


def test_another_tenants_documents_and_files_are_not_found(tenant, other_tenant):
    theirs_by = make_member(other_tenant, roles=["document_controller"])
    theirs = make_revision(other_tenant, make_document(other_tenant, by=theirs_by), by=theirs_by, release=True)
    api, _ = client_for(tenant, "system_admin")
    assert api.get(f"{API}/document-revisions/{theirs.pk}/download/").status_code == 404
    assert api.get(f"{API}/documents/{theirs.document_id}/revisions/").status_code == 404
    r = api.post(f"{API}/documents/{theirs.document_id}/revisions/", {"file": SimpleUploadedFile("a.pdf", PDF)},
                 format="multipart")
    assert r.status_code == 404


def test_document_filters(tenant, controller):
    api, _ = client_for(tenant, "auditor")
    released = make_document(tenant, by=controller, code="CERT")
    make_revision(tenant, released, by=controller, release=True)
    draft = make_document(tenant, by=controller, code="RPT")
    make_revision(tenant, draft, by=controller)
    ids = lambda **q: [d["id"] for d in api.get(f"{API}/documents/", q).json()["results"]]  # noqa: E731
    assert ids(state="released") == [released.pk]
    assert ids(state="draft") == [draft.pk]
    assert ids(document_type="CERT") == [released.pk]
    assert ids(review_due="true") == []


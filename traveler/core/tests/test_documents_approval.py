"""Document release through the approval workflow: submitting a revision of a type that requires
approval asks the type's template; the approvers' signatures release it, a rejection sends it back."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from traveler.core.errors import Conflict
from traveler.core.models import ApprovalRequest, DocumentRevision, DocumentType, Notification
from traveler.core.queue import run_pending
from traveler.core.services.approvals import approval_respond
from traveler.core.services.documents import document_revision_release, document_revision_submit
from traveler.core.services.signatures import manifestations
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_document, make_member, make_revision
from traveler.core.tests.test_ui_shell import signed_in


@pytest.fixture
def people(tenant):
    return {"author": make_member(tenant, roles=["engineering"], full_name="Eve Engineer"),
            "dc": make_member(tenant, roles=["document_controller"], full_name="Dora Controller")}


def submitted(tenant, people, code="SOP"):
    doc = make_document(tenant, by=people["author"], code=code, title="Injector bore honing")
    rev = make_revision(tenant, doc, by=people["author"])
    with tenant_context(tenant, actor=people["author"]):
        document_revision_submit(revision=rev, reason="First issue")
        return doc, DocumentRevision.objects.get(pk=rev.pk), ApprovalRequest.objects.get(record_id=str(rev.pk))


def test_every_tenant_has_a_document_release_template_on_its_approval_types(tenant):
    with tenant_context(tenant):
        for t in DocumentType.objects.all():
            assert (t.approval_template is not None) == t.requires_approval, t.code
            if t.approval_template:
                assert t.approval_template.template_type == "document_release"


def test_submit_asks_for_approval_and_the_signature_releases_the_revision(tenant, people):
    doc, rev, req = submitted(tenant, people)
    assert rev.state == "in_review" and req.status == "pending"
    with tenant_context(tenant, actor=people["dc"]), pytest.raises(Conflict, match="require approval"):
        document_revision_release(revision=rev)
    with tenant_context(tenant, actor=people["dc"]):
        approval_respond(request=req, user=people["dc"], password=PASSWORD, decision="approved", comment="OK to issue")
    with tenant_context(tenant):
        run_pending()  # the durable handler of core.approval.approved
        rev = DocumentRevision.objects.get(pk=rev.pk)
        assert rev.state == "released" and rev.released_by_id == people["dc"].pk
        [sig] = manifestations(rev)
    assert sig["printed_name"] == "Dora Controller" and sig["meaning"] == "approved"
    assert sig["changed_since"] is True  # release moved the revision on; the page says which version was signed
    page = signed_in(people["author"], tenant).get(f"/documents/{doc.pk}/").content.decode()
    assert "Dora Controller</strong> — <span" in page and "Approved" in page


def test_the_requester_is_not_an_approver_of_their_own_document(tenant, people):
    doc = make_document(tenant, by=people["dc"], code="SOP")
    rev = make_revision(tenant, doc, by=people["dc"])
    other = make_member(tenant, roles=["document_controller"], full_name="Otto Other")
    with tenant_context(tenant, actor=people["dc"]):
        document_revision_submit(revision=rev)
        req = ApprovalRequest.objects.get(record_id=str(rev.pk))
        assert [a.user_id for a in req.approvers.all()] == [other.pk]


def test_a_rejection_returns_the_revision_to_draft_with_the_reason(tenant, people):
    doc, rev, req = submitted(tenant, people)
    with tenant_context(tenant, actor=people["dc"]):
        approval_respond(request=req, user=people["dc"], password=PASSWORD, decision="rejected",
                         comment="Torque values missing")
    with tenant_context(tenant):
        run_pending()
        rev = DocumentRevision.objects.get(pk=rev.pk)
        assert rev.state == "draft"
        from traveler.core.models import History

        h = History.objects.filter(table_name="core_documentrevision", record_id=str(rev.pk)).last()
        assert "Torque values missing" in h.reason
        assert Notification.objects.filter(recipient=people["author"], kind="core.approval.completed").exists()


def test_review_due_tells_the_owner_once(tenant, people):
    from datetime import timedelta

    from django.utils import timezone

    from traveler.core.services.documents import documents_review_due

    doc = make_document(tenant, by=people["author"], code="RPT")
    make_revision(tenant, doc, by=people["author"], release=True)
    with tenant_context(tenant):
        from traveler.core.models import Document

        Document.objects.filter(pk=doc.pk).update(review_due_at=timezone.now() - timedelta(days=1))
        documents_review_due()
        run_pending()
        documents_review_due()
        run_pending()
        notes = Notification.objects.filter(recipient=people["author"], kind="core.document.review_due")
        assert notes.count() == 1 and doc.number in notes.get().title


def test_cover_sheet_pdf_shows_the_signatures(tenant, people, tmp_path):
    doc, rev, req = submitted(tenant, people)
    with tenant_context(tenant, actor=people["dc"]):
        approval_respond(request=req, user=people["dc"], password=PASSWORD, decision="approved")
    with tenant_context(tenant):
        run_pending()
    response = signed_in(people["author"], tenant).get(f"/documents/{doc.pk}/cover.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    (tmp_path / "cover.pdf").write_bytes(response.content)  # to look at (rendered to an image)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert doc.number in text and "Dora Controller - Approved - " in text and " UTC" in text
    with tenant_context(tenant):
        assert DocumentRevision.objects.get(pk=rev.pk).sha256 in text.replace("\n", "")


def test_itar_cover_sheet_is_not_found_for_a_non_cleared_user(tenant, people):
    doc = make_document(tenant, by=people["dc"], code="RPT", classification="itar")
    assert signed_in(people["author"], tenant).get(f"/documents/{doc.pk}/cover.pdf").status_code == 404


def clear(tenant, *users):
    from traveler.core.models import Membership
    from traveler.core.services.users import member_set_export_clearance

    admin = make_member(tenant, roles=["tenant_admin"])
    with tenant_context(tenant, actor=admin):
        for u in users:
            member_set_export_clearance(membership=Membership.objects.get(tenant=tenant, user=u), cleared=True,
                                        reason="US person, checked")


def test_an_export_controlled_revision_and_its_approval_exist_only_for_cleared_members(tenant, people):
    from traveler.core.tests.factories import ApiClient

    cleared_qa = make_member(tenant, roles=["qa_manager"], full_name="Cleo Cleared")
    plain_qa = make_member(tenant, roles=["qa_manager"], full_name="Paul Plain")
    clear(tenant, people["author"], people["dc"], cleared_qa)
    doc = make_document(tenant, by=people["author"], code="SOP", classification="itar")
    rev = make_revision(tenant, doc, by=people["author"])
    with tenant_context(tenant, actor=people["author"]):
        document_revision_submit(revision=rev)
        req = ApprovalRequest.objects.get(record_id=str(rev.pk))
        approvers = {a.user_id for a in req.approvers.all()}
    assert approvers == {people["dc"].pk, cleared_qa.pk}  # the member who may not see it is left out
    plain = signed_in(plain_qa, tenant)
    assert plain.get(f"/approvals/{req.pk}/").status_code == 404
    assert plain.get(f"/sign/core.documentrevision/{rev.pk}/").status_code == 404
    api = ApiClient().as_user(plain_qa, tenant)
    assert req.pk not in [r["id"] for r in api.get("/api/v1/core/approval-requests/").json()["results"]]
    assert api.get(f"/api/v1/core/approval-requests/{req.pk}/").status_code == 404
    r = api.get(f"/api/v1/core/signatures/?record_type=core.documentrevision&record_id={rev.pk}")
    assert r.status_code == 404
    assert signed_in(cleared_qa, tenant).get(f"/approvals/{req.pk}/").status_code == 200
    with tenant_context(tenant, actor=people["dc"]):
        from traveler.core.errors import InvalidInput
        from traveler.core.services.approvals import approval_delegate

        with pytest.raises(InvalidInput, match="export clearance"):
            approval_delegate(request=req, user=people["dc"], password=PASSWORD, to_user=plain_qa, reason="away")

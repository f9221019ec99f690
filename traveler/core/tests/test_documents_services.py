"""Document control through its services: numbering, revisions and their states, immutable released
files, upload limits, attachments, export clearance and the periodic review."""

import io
import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import Document, DocumentRevision, DocumentType, History, JobEffect, Membership, OutboxEvent
from traveler.core.queue import run_pending, schedule_periodic
from traveler.core.registry import registry
from traveler.core.services.documents import (
    DEFAULT_DOCUMENT_TYPES,
    add_months,
    document_attach,
    document_revision_obsolete,
    document_revision_release,
    document_revision_submit,
    document_revision_upload,
    document_types_seed,
    documents_review_due,
    revision_label,
)
from traveler.core.services.files import sniff_media_type
from traveler.core.services.numbering import number_next
from traveler.core.services.users import member_set_export_clearance
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PDF, PNG, make_company, make_document, make_member, make_revision, make_tenant


@pytest.fixture
def controller(tenant):
    return make_member(tenant, roles=["document_controller"])


def test_every_tenant_gets_the_default_types_once(tenant):
    with tenant_context(tenant):
        codes = set(DocumentType.objects.values_list("code", flat=True))
        assert codes == {t.code for t in DEFAULT_DOCUMENT_TYPES}
        assert DocumentType.objects.get(code="DWG").numbering_pattern == "DWG-{year}-{seq:04d}"
    assert document_types_seed(tenant) == 0  # idempotent: a second run adds nothing


def test_number_next_counts_per_tenant_key_and_year(tenant, other_tenant):
    with tenant_context(tenant), transaction.atomic():
        assert [number_next(key="ncr", year=2026) for _ in range(3)] == [1, 2, 3]
        assert number_next(key="ncr", year=2027) == 1
        assert number_next(key="capa") == 1
    with tenant_context(other_tenant), transaction.atomic():
        assert number_next(key="ncr", year=2026) == 1


def test_a_rolled_back_number_leaves_no_gap(tenant):
    with tenant_context(tenant):
        with transaction.atomic():
            assert number_next(key="ncr", year=2026) == 1
        with pytest.raises(RuntimeError), transaction.atomic():
            assert number_next(key="ncr", year=2026) == 2
            raise RuntimeError("the NCR could not be saved")
        with transaction.atomic():
            assert number_next(key="ncr", year=2026) == 2


@pytest.mark.django_db(transaction=True)
def test_number_next_refuses_to_run_outside_a_transaction():
    with tenant_context(make_tenant()), pytest.raises(RuntimeError, match="inside the transaction"):
        number_next(key="ncr")


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_never_get_the_same_number():
    """Eight threads, each on its own connection, take numbers at once; each number is handed out once
    and together they are 1..N with no gap, although two of the transactions roll back."""
    tenant = make_tenant()
    got: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8, timeout=20)

    def take(i):
        try:
            with tenant_context(tenant):
                barrier.wait()
                for _ in range(5):
                    try:
                        with transaction.atomic():
                            n = number_next(key="race", year=2026)
                            if i < 2:
                                raise ValueError("rolled back")
                            got.append(n)
                    except ValueError:
                        pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(got) == list(range(1, 31))


def test_document_numbers_follow_the_type_pattern(tenant, controller):
    year = timezone.now().year
    sop = make_document(tenant, by=controller, code="SOP")
    dwg1 = make_document(tenant, by=controller, code="DWG")
    dwg2 = make_document(tenant, by=controller, code="DWG")
    assert sop.number == "SOP-0001"
    assert (dwg1.number, dwg2.number) == (f"DWG-{year}-0001", f"DWG-{year}-0002")
    assert sop.owner == controller


def test_document_needs_a_title_and_a_known_classification(tenant, controller):
    from traveler.core.services.documents import document_create

    with tenant_context(tenant, actor=controller):
        t = DocumentType.objects.get(code="SOP")
        with pytest.raises(InvalidInput) as e:
            document_create(data={"document_type": t, "title": "  "})
        assert "title" in e.value.fields
        with pytest.raises(InvalidInput) as e:
            document_create(data={"document_type": t, "title": "X", "classification": "secret"})
        assert "classification" in e.value.fields
        assert not Document.objects.exists()


def test_revision_labels():
    assert [revision_label(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]


def test_add_months_keeps_the_end_of_month():
    moment = timezone.now().replace(year=2026, month=1, day=31)
    assert add_months(moment, 1).date().isoformat() == "2026-02-28"
    assert add_months(moment, 24).date().isoformat() == "2028-01-31"


def test_upload_stores_the_file_under_its_sha256_with_the_detected_type(tenant, controller):
    doc = make_document(tenant, by=controller)
    with tenant_context(tenant, actor=controller):
        rev = document_revision_upload(document=doc, content=io.BytesIO(PNG), original_name="C:\\scans\\photo.pdf")
    import hashlib

    assert rev.label == "A" and rev.state == "draft"
    assert rev.sha256 == hashlib.sha256(PNG).hexdigest() and rev.size == len(PNG)
    assert rev.media_type == "image/png"  # from the content, not from the name the client sent
    assert rev.original_name == "photo.pdf"
    from traveler.core.services.files import file_open

    with file_open(rev.file_name) as f:
        assert f.read() == PNG


def test_uploading_again_replaces_the_draft_and_a_revision_in_review_blocks_uploads(tenant, controller):
    doc = make_document(tenant, by=controller)
    a = make_revision(tenant, doc, by=controller)
    with tenant_context(tenant, actor=controller):
        again = document_revision_upload(document=doc, content=io.BytesIO(PDF + b"v2"), original_name="v2.pdf")
        assert again.pk == a.pk and again.original_name == "v2.pdf" and again.label == "A"
        document_revision_submit(revision=again)
        with pytest.raises(Conflict, match="in review"):
            document_revision_upload(document=doc, content=io.BytesIO(PDF), original_name="v3.pdf")


@pytest.mark.parametrize("content,media_type", [
    (PDF, "application/pdf"), (PNG, "image/png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"II*\x00\x08\x00", "image/tiff"), (b"MM\x00*\x00\x08", "image/tiff"),
    (b"  0\nSECTION\n  2\nHEADER\n", "image/vnd.dxf"), (b"AutoCAD Binary DXF\r\n\x1a\x00", "image/vnd.dxf"),
    (b"ISO-10303-21;\nHEADER;\n", "model/step"), ("Prüfplan\n".encode(), "text/plain"),
    (b"MZ\x90\x00\x03\x00", "application/octet-stream"), (b"<html>\x00", "application/octet-stream"),
])
def test_media_type_is_sniffed_from_the_content(content, media_type):
    assert sniff_media_type(content) == media_type


def test_upload_limits_name_the_limit_and_write_nothing(tenant, controller, settings):
    doc = make_document(tenant, by=controller)
    settings.TRAVELER_UPLOAD_MAX_BYTES = 1024
    with tenant_context(tenant, actor=controller):
        with pytest.raises(InvalidInput, match="upload limit of 1 KB") as e:
            document_revision_upload(document=doc, content=io.BytesIO(PDF + b"x" * 1024), original_name="big.pdf")
        assert e.value.fields == {"file": ["larger than 1 KB"]}
        with pytest.raises(InvalidInput, match="not accepted") as e:
            document_revision_upload(document=doc, content=io.BytesIO(b"MZ\x90\x00"), original_name="tool.pdf")
        assert "file" in e.value.fields
        with pytest.raises(InvalidInput, match="empty"):
            document_revision_upload(document=doc, content=io.BytesIO(b""), original_name="none.pdf")
        assert not DocumentRevision.objects.filter(document=doc).exists()


def test_release_supersedes_the_previous_revision_in_one_transaction(tenant, controller):
    doc = make_document(tenant, by=controller)
    a = make_revision(tenant, doc, by=controller, release=True)
    b = make_revision(tenant, doc, by=controller)
    with tenant_context(tenant, actor=controller):
        document_revision_submit(revision=b)
        document_revision_release(revision=b, reason="new torque values")
        a.refresh_from_db()
        b.refresh_from_db()
        doc.refresh_from_db()
        assert (a.state, b.state, b.label) == ("superseded", "released", "B")
        assert a.closed_at is not None and b.released_by == controller
        assert doc.released_revision == b
        # RPT has no periodic review
        assert doc.review_due_at is None
        release = History.objects.filter(table_name="core_documentrevision", record_id=str(b.pk)).order_by("-id")[0]
        assert release.reason == "new torque values"
        names = list(OutboxEvent.objects.filter(name__startswith="core.document").values_list("name", flat=True))
        assert "core.document_revision.released" in names


def test_transitions_outside_the_table_are_refused(tenant, controller):
    doc = make_document(tenant, by=controller)
    rev = make_revision(tenant, doc, by=controller)
    with tenant_context(tenant, actor=controller):
        with pytest.raises(Conflict, match="cannot become released"):
            document_revision_release(revision=rev)
        document_revision_submit(revision=rev)
        with pytest.raises(Conflict, match="cannot become in review"):
            document_revision_submit(revision=rev)
        with pytest.raises(InvalidInput, match="reason"):
            document_revision_obsolete(revision=rev, reason="")
        document_revision_obsolete(revision=rev, reason="wrong drawing")
        rev.refresh_from_db()
        assert rev.state == "obsolete"
        with pytest.raises(Conflict):
            document_revision_submit(revision=rev)


def test_types_that_require_approval_are_not_released_directly(tenant, controller):
    doc = make_document(tenant, by=controller, code="SOP")
    rev = make_revision(tenant, doc, by=controller)
    make_member(tenant, roles=["qa_manager"])  # someone other than the author to approve it
    with tenant_context(tenant, actor=controller):
        document_revision_submit(revision=rev)
        with pytest.raises(Conflict, match="require approval"):
            document_revision_release(revision=rev)
        assert DocumentRevision.objects.get(pk=rev.pk).state == "in_review"
        document_revision_release(revision=rev, approved=True)
        doc.refresh_from_db()
        assert doc.released_revision_id == rev.pk
        rev.refresh_from_db()
        assert doc.review_due_at == add_months(rev.released_at, 24)


def test_withdrawing_the_released_revision_leaves_none_in_force(tenant, controller):
    doc = make_document(tenant, by=controller, code="SOP")
    rev = make_revision(tenant, doc, by=controller, release=True)
    with tenant_context(tenant, actor=controller):
        document_revision_obsolete(revision=rev, reason="process retired")
        doc.refresh_from_db()
        assert doc.released_revision is None and doc.review_due_at is None


@pytest.mark.parametrize("sql", [
    "UPDATE core_documentrevision SET sha256 = repeat('0', 64) WHERE id = %s",
    "UPDATE core_documentrevision SET file_name = 'sha256/00/other' WHERE id = %s",
    "UPDATE core_documentrevision SET size = size + 1 WHERE id = %s",
    "UPDATE core_documentrevision SET state = 'draft' WHERE id = %s",
    "DELETE FROM core_documentrevision WHERE id = %s",
])
def test_a_released_file_cannot_change_even_by_raw_sql(tenant, controller, sql):
    doc = make_document(tenant, by=controller)
    rev = make_revision(tenant, doc, by=controller, release=True)
    with tenant_context(tenant), pytest.raises(DatabaseError, match="frozen|cannot"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(sql, [rev.pk])
    with tenant_context(tenant):
        after = DocumentRevision.objects.get(pk=rev.pk)
    assert (after.sha256, after.size, after.file_name, after.state) == (rev.sha256, rev.size, rev.file_name, "released")


def test_a_draft_file_may_change_and_released_metadata_still_moves_on(tenant, controller):
    doc = make_document(tenant, by=controller)
    draft = make_revision(tenant, doc, by=controller)
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("UPDATE core_documentrevision SET size = size + 1 WHERE id = %s", [draft.pk])
    released = make_revision(tenant, make_document(tenant, by=controller), by=controller, release=True)
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("UPDATE core_documentrevision SET change_description = 'typo' WHERE id = %s", [released.pk])


def test_downloads_are_append_only(tenant, controller, as_owner):
    doc = make_document(tenant, by=controller)
    rev = make_revision(tenant, doc, by=controller)
    from traveler.core.services.documents import document_revision_download

    with tenant_context(tenant, actor=controller):
        document_revision_download(revision=rev, ip="10.0.0.5").close()
        for sql in ("UPDATE core_documentdownload SET ip = NULL", "DELETE FROM core_documentdownload"):
            # The app role has no UPDATE or DELETE on the table; the owner meets the trigger.
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), \
                    connection.cursor() as cur:
                cur.execute(sql)
            with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                    connection.cursor() as cur:
                cur.execute(sql)


def test_attaching_needs_a_registered_model(tenant, controller):
    doc = make_document(tenant, by=controller)
    company = make_company(tenant)
    assert "core.company" not in registry.attachables
    with tenant_context(tenant, actor=controller), pytest.raises(InvalidInput, match="cannot be attached") as e:
        document_attach(document=doc, target=company)
    assert "target" in e.value.fields


def test_export_clearance_needs_a_reason_and_is_in_the_history(tenant, admin):
    user = make_member(tenant, roles=["engineering"])
    with tenant_context(tenant, actor=admin):
        m = Membership.objects.get(tenant=tenant, user=user)
        with pytest.raises(InvalidInput) as e:
            member_set_export_clearance(membership=m, cleared=True, reason=" ")
        assert "reason" in e.value.fields
        member_set_export_clearance(membership=m, cleared=True, reason="US person, DDTC registration checked")
        m.refresh_from_db()
        assert m.export_cleared
        h = History.objects.filter(table_name="core_membership", record_id=str(m.pk)).order_by("-id")[0]
        assert h.changes == {"export_cleared": (False, True)}
        assert h.reason == "US person, DDTC registration checked" and h.actor_id == admin.pk
        own = Membership.objects.get(tenant=tenant, user=admin)
        with pytest.raises(InvalidInput, match="your own export clearance"):
            member_set_export_clearance(membership=own, cleared=True, reason="I am cleared")
        assert not Membership.objects.get(pk=own.pk).export_cleared


def _due_document(tenant, controller):
    doc = make_document(tenant, by=controller, code="SOP")
    make_revision(tenant, doc, by=controller, release=True)
    with tenant_context(tenant):
        Document.objects.filter(pk=doc.pk).update(review_due_at=timezone.now() - timedelta(days=1))
    return doc


def test_review_due_is_published_once_per_document_per_day(tenant, controller):
    due = _due_document(tenant, controller)
    not_due = make_document(tenant, by=controller, code="SOP")
    make_revision(tenant, not_due, by=controller, release=True)  # due in 24 months
    now = timezone.now()
    with tenant_context(tenant):
        assert documents_review_due(now=now) == 1
        assert documents_review_due(now=now) == 0  # the same day: not again
        assert documents_review_due(now=now + timedelta(days=1)) == 1  # the next day: again
        events = OutboxEvent.objects.filter(name="core.document.review_due")
        assert [e.payload["document_id"] for e in events] == [due.pk, due.pk]
        assert events[0].payload["number"] == due.number and events[0].payload["owner_id"] == controller.pk


def test_the_periodic_job_announces_due_reviews_in_every_tenant(tenant, other_tenant, controller):
    due = _due_document(tenant, controller)
    theirs = _due_document(other_tenant, make_member(other_tenant, roles=["document_controller"]))
    assert "core.document_review_due" in registry.jobs
    schedule_periodic(timezone.now() + timedelta(days=365))
    run_pending()
    for t, doc in ((tenant, due), (other_tenant, theirs)):
        with tenant_context(t):
            assert list(OutboxEvent.objects.filter(name="core.document.review_due")
                        .values_list("payload__document_id", flat=True)) == [doc.pk]
    assert JobEffect.objects.filter(key__startswith="core.document.review_due:").count() >= 2


def test_demo_documents(tenant):
    from traveler.core.demo import load_document_demo

    controller = make_member(tenant, roles=["document_controller"],
                             email=f"document.controller@{tenant.slug}.example.com")
    make_member(tenant, roles=["qa_manager"], email=f"qa.manager@{tenant.slug}.example.com")  # approves them
    make_member(tenant, roles=["tenant_admin"], email=f"tenant.admin@{tenant.slug}.example.com")  # clears for ITAR
    load_document_demo(tenant)
    load_document_demo(tenant)  # idempotent
    with tenant_context(tenant):
        docs = Document.objects.all()
        assert docs.count() == 4 and {d.owner_id for d in docs} == {controller.pk}
        states = dict(DocumentRevision.objects.values_list("document__document_type__code", "state"))
        assert states == {"CERT": "released", "RPT": "released", "SOP": "in_review", "DWG": "in_review"}
        assert Document.objects.filter(classification="itar").count() == 1

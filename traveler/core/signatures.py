"""The signature meanings and approval template types the platform itself knows; modules add
theirs in their own ``signatures.py``, with the records they make signable or approvable."""

from traveler.core.registry import declare_approval_template_type, declare_signature_meaning

for _code, _label in (
    ("authored", "Authored"), ("reviewed", "Reviewed"), ("approved", "Approved"), ("rejected", "Rejected"),
    ("verified", "Verified"), ("responsible", "Responsible"), ("delegated", "Delegated"),
):
    declare_signature_meaning(_code, _label)

for _code, _label in (
    ("document_release", "Document release"), ("capa_approval", "CAPA approval"),
    ("nonconformance_disposition", "Nonconformance disposition"), ("eco", "Engineering change (ECO)"),
    ("training_certificate", "Training certificate"),
):
    declare_approval_template_type(_code, _label)


def _revision_page(revision) -> str:
    from django.urls import reverse

    return reverse("core:document-detail", args=[revision.document_id])


def _register_documents() -> None:
    from traveler.core.models import DocumentRevision
    from traveler.core.registry import Approvable, register_approvable

    # A revision is what approvers sign: its row holds the file's SHA-256, so the signature binds the file.
    register_approvable(Approvable(model=DocumentRevision, module="core", permission="core.manage_documents",
                                   template_types=("document_release",), detail_url=_revision_page,
                                   visible=_revisions_for))


def _revisions_for(*, access):
    from traveler.core.selectors import document_revision_list_for_user

    # An export-controlled document's revisions, their signatures and their approvals exist only for
    # export-cleared members.
    return document_revision_list_for_user(access=access)


_register_documents()

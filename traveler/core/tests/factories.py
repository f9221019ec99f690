"""Factories for tests: real services, no fixture files, no fixed ids."""

from __future__ import annotations

import itertools
import uuid

from django.utils.text import slugify
from rest_framework.test import APIClient

from traveler.core.models import (
    ApprovalRequest,
    ApprovalTemplate,
    Company,
    Document,
    DocumentRevision,
    DocumentType,
    Membership,
    Tenant,
    User,
)
from traveler.core.services.auth import token_issue
from traveler.core.services.tenants import tenant_create
from traveler.core.services.users import member_add
from traveler.core.tenancy import tenant_context

PASSWORD = "correct horse battery staple"
_n = itertools.count(1)


def make_tenant(name: str | None = None, **kw) -> Tenant:
    name = name or f"Tenant {next(_n)}"
    return tenant_create(name=name, slug=f"{slugify(name)[:40]}-{uuid.uuid4().hex[:6]}", **kw)


def make_company(tenant: Tenant, name: str | None = None, **kw) -> Company:
    from traveler.core.services.companies import company_create

    with tenant_context(tenant):
        return company_create(data={"name": name or f"Company {next(_n)}", **kw})


def make_member(tenant: Tenant, *, roles: list[str], company: Company | None = None,
                email: str | None = None, full_name: str | None = None) -> User:
    email = email or f"user{next(_n)}-{uuid.uuid4().hex[:6]}@example.com"
    with tenant_context(tenant):
        m: Membership = member_add(email=email, full_name=full_name or email.split("@")[0].title(),
                                   password=PASSWORD, roles=roles, company=company)
    return m.user


class ApiClient(APIClient):
    def as_user(self, user: User, tenant: Tenant) -> "ApiClient":
        with tenant_context(tenant, actor=user):
            _, raw = token_issue(user=user, tenant=tenant, name=f"test client {uuid.uuid4().hex[:8]}")
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return self


# Record factories for the generic API contract tests (test_api_contract.py): every model served
# by a TenantRecordViewSet registers one, in its module's tests/factories.py.
RECORD_FACTORIES: dict[type, "callable"] = {}


def record_factory(model):
    def decorator(func):
        RECORD_FACTORIES[model] = func
        return func

    return decorator


@record_factory(Company)
def _company(tenant: Tenant) -> Company:
    return make_company(tenant)


@record_factory(ApprovalTemplate)
def _approval_template(tenant: Tenant) -> ApprovalTemplate:
    from traveler.core.services.approval_templates import approval_template_create

    with tenant_context(tenant):
        return approval_template_create(data={"name": f"Template {next(_n)}", "template_type": "document_release"})


@record_factory(ApprovalRequest)
def _approval_request(tenant: Tenant) -> ApprovalRequest:
    # Core registers no approvable record of its own: the row is written as a module's request would be.
    from django.contrib.contenttypes.models import ContentType

    from traveler.core.services.records import record_create

    template = _approval_template(tenant)
    company = make_company(tenant)
    requester = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant):
        return record_create(ApprovalRequest, data={
            "template": template, "template_type": template.template_type, "flow": template.flow,
            "order": template.order, "sla_days": template.sla_days, "record_type": ContentType.objects.get_for_model(Company),
            "record_id": str(company.pk), "record_label": str(company), "record_version": company.version,
            "requested_by": requester})
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def document_type(tenant: Tenant, code: str = "RPT") -> DocumentType:
    with tenant_context(tenant):
        return DocumentType.objects.get(code=code)


def make_document(tenant: Tenant, *, by: User | None = None, code: str = "RPT", title: str | None = None,
                  classification: str = "internal") -> Document:
    from traveler.core.services.documents import document_create

    by = by or make_member(tenant, roles=["document_controller"])
    with tenant_context(tenant, actor=by):
        return document_create(data={"document_type": DocumentType.objects.get(code=code),
                                     "title": title or f"Document {next(_n)}", "classification": classification})


def make_revision(tenant: Tenant, document: Document, *, by: User | None = None, content: bytes = PDF,
                  name: str = "file.pdf", release: bool = False) -> DocumentRevision:
    import io

    from traveler.core.services.documents import (
        document_revision_release,
        document_revision_submit,
        document_revision_upload,
    )

    by = by or make_member(tenant, roles=["document_controller"])
    with tenant_context(tenant, actor=by):
        rev = document_revision_upload(document=document, content=io.BytesIO(content + uuid.uuid4().hex.encode()),
                                       original_name=name)
        if release and not document.document_type.requires_approval:
            document_revision_submit(revision=rev)
            document_revision_release(revision=rev)
            rev.refresh_from_db()
    if release and document.document_type.requires_approval:
        # As in production: another Document Controller approves (signs), then the revision is released
        # as core's handler of core.approval.approved does.
        from traveler.core.models import ApprovalRequest
        from traveler.core.services.approvals import approval_respond

        approver = make_member(tenant, roles=["document_controller"])
        with tenant_context(tenant, actor=by):
            document_revision_submit(revision=rev)
            req = ApprovalRequest.objects.get(record_id=str(rev.pk), status="pending")
            places = list(req.approvers.filter(archived_at__isnull=True).select_related("user").order_by("position", "id"))
        for place in places:  # every approver the template names signs, in order, until it is decided
            with tenant_context(tenant, actor=place.user):
                approval_respond(request=ApprovalRequest.objects.get(pk=req.pk), user=place.user, password=PASSWORD,
                                 decision="approved")
                if ApprovalRequest.objects.get(pk=req.pk).status != "pending":
                    break
        with tenant_context(tenant, actor=approver):
            document_revision_release(revision=rev, approved=True)
            rev.refresh_from_db()
    return rev


@record_factory(Document)
def _document(tenant: Tenant) -> Document:
    return make_document(tenant)


@record_factory(DocumentType)
def _document_type(tenant: Tenant) -> DocumentType:
    from traveler.core.services.records import record_create

    with tenant_context(tenant):
        code = f"T{next(_n)}"
        return record_create(DocumentType, data={"code": code, "name": f"Type {code}",
                                                 "numbering_pattern": code + "-{seq:03d}"})


@record_factory(DocumentRevision)
def _document_revision(tenant: Tenant) -> DocumentRevision:
    return make_revision(tenant, make_document(tenant))

"""Demo data of the platform: two tenants, a user in every role, customer companies.

Modules add their own demo data by registering a loader with ``demo_loader``; ``load_demo``
runs them after the platform's, inside each demo tenant.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from traveler.core.models import Company, Membership, Tenant, User
from traveler.core.roles import SEEDED_ROLES
from traveler.core.services.companies import company_create
from traveler.core.services.tenants import tenant_create
from traveler.core.services.users import member_add
from traveler.core.tenancy import tenant_context

DEMO_PASSWORD = "traveler-demo-2026"
DEMO_TENANTS = (
    ("acme", "Acme Injector Works", ("Northwind Diesel", "Bluewater Marine", "Ridgeline Rail")),
    ("kestrel", "Kestrel Aerospace Components", ("Falcon Avionics", "Harbor Defense Systems")),
)
BOTH_TENANTS = "quality.lead@example.com"
_loaders: list[Callable[[Tenant], None]] = []


def demo_loader(func: Callable[[Tenant], None]) -> Callable[[Tenant], None]:
    """Register a module's demo-data loader: ``func(tenant)``, run inside that tenant; idempotent."""
    _loaders.append(func)
    return func


def load_demo() -> list[tuple[str, str, str]]:
    """Create (or reuse) the demo tenants and users. Returns (tenant, email, role) rows."""
    logins: list[tuple[str, str, str]] = []
    for slug, name, customers in DEMO_TENANTS:
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(name=name, slug=slug)
            with tenant_context(tenant):
                companies = []
                for cname in customers:
                    c = Company.objects.filter(name=cname).first() or company_create(data={"name": cname, "kind": "customer"})
                    companies.append(c)
                for spec in SEEDED_ROLES:
                    email = f"{spec.code.replace('_', '.')}@{slug}.example.com"
                    user = User.objects.filter(email=email).first()
                    if user is None or not Membership.objects.filter(user=user, tenant=tenant).exists():
                        member_add(
                            email=email, full_name=f"{spec.name} ({name.split()[0]})", password=DEMO_PASSWORD,
                            roles=[spec.code], company=companies[0] if spec.code == "customer" else None,
                        )
                    logins.append((slug, email, spec.name))
                # One person in both tenants, to show the tenant switch (and a second QA manager, so
                # approvals that need two signatures can be shown), before the modules' loaders run.
                user = User.objects.filter(email=BOTH_TENANTS).first()
                if user is None or not Membership.objects.filter(user=user, tenant=tenant).exists():
                    member_add(email=BOTH_TENANTS, full_name="Dana Quality Lead", password=DEMO_PASSWORD,
                               roles=["qa_manager"])
                for loader in _loaders:
                    loader(tenant)
    logins.append(("acme + kestrel", BOTH_TENANTS, "QA Manager in both tenants"))
    return logins


def demo_pdf(title: str, lines: tuple[str, ...] = ()) -> bytes:
    """A small valid one-page PDF showing ``title`` and ``lines`` (ASCII), for demo documents."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 18 Tf 72 760 Td (" + esc(title) + ") Tj /F1 11 Tf"
    for line in lines:
        text += " 0 -22 Td (" + esc(line) + ") Tj"
    text += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


DEMO_DOCUMENTS = (
    # (type, title, classification, state): CERT and RPT need no approval, so the demo releases them; the
    # others wait in review for the approval workflow.
    ("CERT", "Material certificate, 42CrMo4 bar stock", "internal", "released"),
    ("RPT", "Leak test capability study", "confidential", "released"),
    ("SOP", "Handling of nonconforming product", "internal", "in_review"),
    ("DWG", "Control valve housing", "itar", "in_review"),
)


def _demo_export_clearance(tenant: Tenant) -> None:
    """The demo's Document Controller and QA Manager are export-cleared (by the Tenant Admin, with a
    reason), so the ITAR drawing has its author and an approver; everyone else does not see it."""
    from traveler.core.services.users import member_set_export_clearance

    admin = User.objects.filter(email=f"tenant.admin@{tenant.slug}.example.com").first()
    if admin is None:
        return
    with tenant_context(tenant, actor=admin):
        for role in ("document.controller", "qa.manager"):
            m = Membership.objects.filter(tenant=tenant, user__email=f"{role}@{tenant.slug}.example.com").first()
            if m is not None and not m.export_cleared:
                member_set_export_clearance(membership=m, cleared=True, reason="Demo: US person, checked")


@demo_loader
def load_document_demo(tenant: Tenant) -> None:
    """A few controlled documents in ``tenant`` (one of them ITAR: only export-cleared users see it)."""
    import io

    from traveler.core.models import Document, DocumentType
    from traveler.core.services.documents import (
        document_create,
        document_revision_release,
        document_revision_submit,
        document_revision_upload,
    )

    controller = User.objects.filter(email=f"document.controller@{tenant.slug}.example.com").first()
    if controller is None:
        return
    _demo_export_clearance(tenant)
    with tenant_context(tenant, actor=controller):
        for code, title, classification, state in DEMO_DOCUMENTS:
            if Document.objects.filter(title=title).exists():
                continue
            doc = document_create(data={"document_type": DocumentType.objects.get(code=code), "title": title,
                                        "classification": classification})
            pdf = demo_pdf(f"{doc.number} {title}", (tenant.name, "Revision A", "Demo document"))
            rev = document_revision_upload(document=doc, content=io.BytesIO(pdf), original_name=f"{doc.number}.pdf",
                                           change_description="First issue")
            document_revision_submit(revision=rev)
            if state == "released":
                document_revision_release(revision=rev, reason="First issue")

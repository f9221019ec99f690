"""Documents in a real browser: the library, previews that the Content-Security-Policy lets through, an
upload through the form, and an ITAR document that a user who is not cleared never sees.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring).
"""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server, orm

pytestmark = pytest.mark.browser


def png(width: int = 40, height: int = 24) -> bytes:
    """A valid RGB PNG (a blue gradient)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"".join(bytes((x * 6 % 256, 80, 200)) for x in range(width))
    rows = row * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.demo import demo_pdf
    from traveler.core.models import DocumentType
    from traveler.core.services.documents import (
        document_create,
        document_revision_release,
        document_revision_submit,
        document_revision_upload,
    )
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Cobalt Valves {tag}")
        user = make_member(plant, roles=["document_controller"], email=f"dora-{tag}@example.com",
                           full_name="Dora Castillo")
        docs = {}
        with tenant_context(plant, actor=user):
            for key, code, title, classification, content, name in (
                ("cert", "CERT", f"Bar stock certificate {tag}", "internal", png(), "cert.png"),
                ("report", "RPT", f"Capability study {tag}", "internal", demo_pdf("Capability study"), "study.pdf"),
                ("itar", "RPT", f"Seeker test report {tag}", "itar", demo_pdf("Seeker"), "seeker.pdf"),
            ):
                doc = document_create(data={"document_type": DocumentType.objects.get(code=code), "title": title,
                                            "classification": classification})
                rev = document_revision_upload(document=doc, content=io.BytesIO(content), original_name=name)
                document_revision_submit(revision=rev)
                document_revision_release(revision=rev)
                docs[key] = doc
        with live_server() as url:
            yield SimpleNamespace(url=url, user=user, password=PASSWORD, plant=plant, docs=docs, tag=tag)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as b:
        yield b


def test_documents_end_to_end(site, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site.url}/")

    # The library, from the menu; the ITAR document does not exist for this user (not export-cleared).
    page.locator("#sidebar").get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
    page.locator("#search-q").fill(site.tag)
    expect(page.locator("#record-results tbody tr")).to_have_count(2)
    expect(page.locator("#record-results")).not_to_contain_text("Seeker")
    page.screenshot(path=str(ARTIFACTS / "documents-1280x900.png"), full_page=True)

    # The certificate's page previews its PNG inline: the image loads under the page's CSP.
    page.get_by_role("link", name=site.docs["cert"].number).click()
    expect(page.get_by_role("heading", level=2, name="Revision A (released)")).to_be_visible()
    image = page.locator("img.document-preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 40", arg=image.element_handle())
    page.screenshot(path=str(ARTIFACTS / "document-detail-1280x900.png"), full_page=True)

    # Upload revision B through the form.
    sample = tmp_path / "cert-b.png"
    sample.write_bytes(png(48, 24))
    page.get_by_role("link", name="Upload a new revision").click()
    page.get_by_label("File").set_input_files(str(sample))
    page.get_by_label("Change description").fill("Re-scanned at higher resolution")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="Revision B")).to_contain_text("uploaded as a draft")
    expect(page.locator("#revision-" + str(_revision_b(site)))).to_contain_text("Re-scanned at higher resolution")

    # The report's page frames its PDF: the frame is allowed (same origin) by both policies.
    page.goto(f"{site.url}/documents/{site.docs['report'].pk}/")
    frame = page.locator("iframe.document-preview-frame")
    expect(frame).to_be_visible()
    response = page.request.get(site.url + frame.get_attribute("src"))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"

    # The ITAR document's page is not found.
    page.goto(f"{site.url}/documents/{site.docs['itar'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("not found", ignore_case=True)
    errors = [e for e in errors if "404" not in e]
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def _revision_b(site) -> int:
    from traveler.core.models import DocumentRevision
    from traveler.core.tenancy import tenant_context

    with orm(), tenant_context(site.plant):
        return DocumentRevision.objects.get(document_id=site.docs["cert"].pk, label="B").pk

"""Electronic signatures: each test names the 21 CFR Part 11 clause it demonstrates."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from traveler.core.errors import Conflict, InvalidInput, LockedOut, NotAuthenticated
from traveler.core.models import Company, LoginAttempt, Signature
from traveler.core.registry import Signable, registry
from traveler.core.services import auth as auth_services
from traveler.core.services.companies import company_update
from traveler.core.services.signatures import (
    canonical,
    manifestations,
    password_confirm,
    sha256,
    signature_sign,
    signature_write,
    signatures_verify,
)
from traveler.core.services.users import member_set_active
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member


@pytest.fixture
def signable_company():
    """Companies become signable for these tests (modules register their own records)."""
    key = Company._meta.label_lower
    before = registry.signables.get(key)
    registry.signables[key] = Signable(model=Company, module="core", detail_target="core.company.detail")
    yield
    if before is None:
        registry.signables.pop(key, None)
    else:
        registry.signables[key] = before


@pytest.fixture
def signer(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Grace Hopper")


@pytest.fixture
def company(tenant):
    return make_company(tenant, name="Northwind Diesel")


def sign(tenant, user, record, password=PASSWORD, meaning="approved", **kw):
    with tenant_context(tenant, actor=user):
        return signature_sign(user=user, password=password, record=record, meaning=meaning, **kw)


def test_signature_records_name_time_meaning_version_and_content_hash(tenant, signer, company, signable_company):
    """21 CFR 11.50(a), 11.70: the signature carries the printed name, date and time, meaning, and is
    linked to the record (type, id, version) by a SHA-256 over the exact content signed."""
    sig = sign(tenant, signer, company, comment="Supplier audit passed")
    assert sig.printed_name == "Grace Hopper"
    assert sig.meaning == "approved" and sig.meaning_label == "Approved"
    assert sig.signed_at.utcoffset().total_seconds() == 0
    assert sig.record_id == str(company.pk) and sig.record_version == company.version
    assert sig.content_hash == sha256(sig.content)
    assert '"name":"Northwind Diesel"' in sig.content
    assert sig.comment == "Supplier audit passed"


def test_signing_without_the_password_fails(tenant, signer, company, signable_company):
    """21 CFR 11.200(a)(1): both identification components at every signing; no password, no signature."""
    with pytest.raises(InvalidInput):
        sign(tenant, signer, company, password="")
    with pytest.raises(NotAuthenticated):
        sign(tenant, signer, company, password="not the password")
    with tenant_context(tenant):
        assert not Signature.objects.exists()


def test_a_wrong_password_is_recorded_and_counts_toward_the_lockout(tenant, signer, company, signable_company, settings):
    """21 CFR 11.300(d): attempts at unauthorised use are detected and recorded; a wrong signing
    password counts toward the sign-in lockout, and a locked-out account can neither sign nor sign in."""
    settings.TRAVELER_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            sign(tenant, signer, company, password="guess")
    failed = LoginAttempt.objects.filter(email=signer.email, succeeded=False, purpose="signature")
    assert failed.count() == 3
    with pytest.raises(LockedOut):
        sign(tenant, signer, company)  # even the right password: locked
    with pytest.raises(LockedOut):
        auth_services.login_check(email=signer.email, password=PASSWORD, ip="203.0.113.9")


def test_a_user_can_only_sign_as_themselves(tenant, signer, company, signable_company):
    """21 CFR 11.100(a), 11.200(a)(3): a signature is unique to one person; nobody signs for another."""
    other = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=other), pytest.raises(NotAuthenticated, match="yourself"):
        signature_sign(user=signer, password=PASSWORD, record=company, meaning="approved")


def test_only_registered_records_and_meanings(tenant, signer, company):
    """21 CFR 11.50(a)(3): the meaning is one the system knows; records are signable only when registered."""
    with pytest.raises(InvalidInput, match="cannot be signed"):
        sign(tenant, signer, company)


def test_unknown_meaning_refused_before_the_password_is_tried(tenant, signer, company, signable_company):
    """21 CFR 11.50(a)(3)."""
    with pytest.raises(InvalidInput, match="meaning"):
        sign(tenant, signer, company, password="wrong", meaning="liked")
    assert not LoginAttempt.objects.filter(email=signer.email).exists()


def test_signature_cannot_be_updated_or_deleted_even_by_raw_sql(tenant, signer, company, signable_company, as_owner):
    """21 CFR 11.70: signatures cannot be excised, copied or transferred to falsify a record: the
    database refuses UPDATE and DELETE, to the application role and to the owner."""
    sig = sign(tenant, signer, company)
    for sql in (f"UPDATE core_signature SET record_id = '999' WHERE id = {sig.pk}",
                f"UPDATE core_signature SET printed_name = 'Someone Else' WHERE id = {sig.pk}",
                f"DELETE FROM core_signature WHERE id = {sig.pk}"):
        with tenant_context(tenant), pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
        with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cur:
            cur.execute(sql)
    with tenant_context(tenant):
        assert Signature.objects.get(pk=sig.pk).printed_name == "Grace Hopper"


def test_record_changed_after_signing_is_shown_as_such(tenant, signer, company, signable_company):
    """21 CFR 11.70, 11.10(e): a change after signing never silently carries the signature along."""
    sign(tenant, signer, company)
    with tenant_context(tenant, actor=signer):
        company = company_update(company=company, version=company.version, data={"description": "New address"})
        shown = manifestations(company)
    assert shown[0]["changed_since"] is True
    assert shown[0]["version_note"] == f"signed version {company.version - 1}; the record is now at version {company.version}"


def test_signing_a_version_other_than_the_one_shown_is_a_conflict(tenant, signer, company, signable_company):
    with pytest.raises(Conflict, match="changed since you opened it"):
        sign(tenant, signer, company, expected_version=company.version + 1)


def verify(as_owner):
    with as_owner():  # like ./dev manage signatures_verify: every tenant's signatures
        return signatures_verify()


def test_deactivated_signer_signatures_stay_valid_and_shown(tenant, signer, company, signable_company, as_owner):
    """21 CFR 11.100(b), 11.10(e): deactivating a person keeps their signatures and what they signed."""
    sign(tenant, signer, company)
    admin = make_member(tenant, roles=["tenant_admin"])
    with tenant_context(tenant, actor=admin):
        from traveler.core.models import Membership

        member_set_active(membership=Membership.objects.get(user=signer, tenant=tenant), active=False, reason="left")
        shown = manifestations(company)
    assert shown[0]["printed_name"] == "Grace Hopper"
    count, problems = verify(as_owner)
    assert count >= 1 and problems == []


def test_verify_detects_a_changed_signed_record(tenant, signer, company, signable_company, as_owner):
    """21 CFR 11.70, 11.10(a): the hash binds the signature to the content; altering the signed
    record out of band (without its trail) or the stored content is detected by signatures_verify."""
    sig = sign(tenant, signer, company)
    count, problems = verify(as_owner)
    assert count >= 1 and not [p for p in problems if p.signature_id == sig.pk]
    # The record's signed content altered in the signature row itself (owner disables the guard):
    with as_owner(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE core_signature DISABLE TRIGGER traveler_append_only")
        cur.execute("UPDATE core_signature SET content = replace(content, 'Northwind', 'Southwind') WHERE id = %s",
                    [sig.pk])
        cur.execute("ALTER TABLE core_signature ENABLE TRIGGER traveler_append_only")
    kinds = {p.kind for p in verify(as_owner)[1] if p.signature_id == sig.pk}
    assert "content_changed" in kinds
    with as_owner(), pytest.raises(CommandError, match="FAILED"):
        call_command("signatures_verify")


def test_verify_detects_content_that_was_never_the_record(tenant, signer, company, signable_company, as_owner):
    """21 CFR 11.70: content and hash rewritten together still fail: the audit trail never held it."""
    sig = sign(tenant, signer, company)
    forged = sig.content.replace("Northwind", "Southwind")
    with as_owner(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE core_signature DISABLE TRIGGER traveler_append_only")
        cur.execute("UPDATE core_signature SET content = %s, content_hash = %s WHERE id = %s",
                    [forged, sha256(forged), sig.pk])
        cur.execute("ALTER TABLE core_signature ENABLE TRIGGER traveler_append_only")
    kinds = {p.kind for p in verify(as_owner)[1] if p.signature_id == sig.pk}
    assert {"changed", "not_as_recorded"} <= kinds


def test_verify_detects_a_signature_moved_to_another_record(tenant, signer, company, signable_company, as_owner):
    """21 CFR 11.70: a signature cannot be transferred to another record."""
    sig = sign(tenant, signer, company)
    other = make_company(tenant, name="Other")
    with as_owner(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE core_signature DISABLE TRIGGER traveler_append_only")
        cur.execute("UPDATE core_signature SET record_id = %s WHERE id = %s", [str(other.pk), sig.pk])
        cur.execute("ALTER TABLE core_signature ENABLE TRIGGER traveler_append_only")
    kinds = {p.kind for p in verify(as_owner)[1] if p.signature_id == sig.pk}
    assert {"changed", "moved"} <= kinds


def test_verify_passes_on_untouched_signatures_after_legitimate_changes(tenant, signer, company, signable_company,
                                                                       as_owner):
    """21 CFR 11.10(e): a later, recorded change of the record does not invalidate what was signed."""
    sig = sign(tenant, signer, company)
    with tenant_context(tenant, actor=signer):
        company_update(company=company, version=company.version, data={"description": "changed later"})
    count, problems = verify(as_owner)
    assert count >= 1 and not [p for p in problems if p.signature_id == sig.pk]
    with as_owner():
        call_command("signatures_verify")


def test_confirmation_is_for_one_user_only(tenant, signer, company, signable_company):
    with tenant_context(tenant, actor=signer):
        confirmation = password_confirm(user=signer, password=PASSWORD)
        sig = signature_write(confirmation=confirmation, record=company, meaning="reviewed")
    assert sig.signer_id == signer.pk


def test_canonical_form_is_stable():
    from decimal import Decimal

    assert canonical({"b": Decimal("1.50"), "a": [1, "x"]}) == '{"a":[1,"x"],"b":1.50}'.replace("1.50", '"1.50"')

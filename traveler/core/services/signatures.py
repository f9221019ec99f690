"""Electronic signatures (21 CFR Part 11): one service signs any registered record.

A signing takes two steps that cannot be skipped:

1. ``password_confirm`` checks the signer's password (11.200(a)(1): both components at every
   signing). A wrong password is recorded as a failed attempt and counts toward the sign-in lockout
   (11.300(d)); a locked-out account cannot sign. It returns a ``Confirmation`` for that user only.
2. ``signature_write`` takes the confirmation and writes the signature, in the caller's transaction
   (an approval response and its signature commit together).

``signature_sign`` does both for a caller that signs one record on its own. Callers that sign inside
a transaction of their own call ``password_confirm`` *before* opening it, so a wrong password stays
recorded when their transaction rolls back.

The content signed is the record's row as the database holds it (``to_jsonb`` of the row, minus the
columns the audit trail excludes), serialised canonically: JSON with sorted keys, no whitespace,
numbers exactly as PostgreSQL stores them. That is the same form the audit trail records, so
``signatures_verify`` can prove the signed content was the record at the signed version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import capfirst

from traveler.core.errors import Conflict, InvalidInput, LockedOut, NotAuthenticated, NotFound
from traveler.core.models import LoginAttempt, Signature, User
from traveler.core.registry import Signable, registry
from traveler.core.tenancy import current_actor, current_tenant

CONFIRMATION_SECONDS = 120  # how long a confirmed password may be used to write a signature


def canonical(data) -> str:
    """The canonical text of ``data``: sorted keys, no whitespace, Decimals as their exact text."""

    def default(v):
        if isinstance(v, Decimal):
            return str(v)
        raise TypeError(f"cannot serialise {type(v).__name__}")

    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default)


def parse_row(text: str) -> dict:
    return json.loads(text, parse_float=Decimal)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signable_for(model_or_obj) -> Signable:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    signable = registry.signables.get(model._meta.label_lower)
    if signable is None:
        raise InvalidInput(f"{model._meta.verbose_name} records cannot be signed.", fields={"record_type": ["not signable"]})
    return signable


def signable_by_key(key: str) -> Signable:
    signable = registry.signables.get((key or "").lower())
    if signable is None:
        raise InvalidInput(f"{key!r} is not a kind of record that can be signed.", fields={"record_type": ["not signable"]})
    return signable


def meaning_label(meaning: str, signable: Signable | None = None) -> str:
    label = registry.signature_meanings.get(meaning)
    if label is None or (signable is not None and signable.meanings and meaning not in signable.meanings):
        allowed = signable.meanings if signable and signable.meanings else tuple(registry.signature_meanings)
        raise InvalidInput(f"{meaning!r} is not a meaning for this signature: choose one of {', '.join(allowed)}.",
                           fields={"meaning": ["invalid"]})
    return label


# ---------- the password, at every signing ----------

@dataclass(frozen=True)
class Confirmation:
    """Proof that ``user`` re-entered their password at ``at``; good for one signing transaction."""

    user: User
    at: datetime


def password_confirm(*, user: User, password: str, ip: str | None = None) -> Confirmation:
    """Check ``user``'s password for a signature (11.200(a)); record the attempt either way.

    Call it outside any transaction of your own, so a failure stays recorded.
    """
    if user is None or not user.is_active:
        raise NotAuthenticated("Only an active, signed-in user can sign.")
    actor = current_actor()
    if actor is not None and actor.pk != user.pk:
        raise NotAuthenticated("You can only sign as yourself.")
    if not password:
        raise InvalidInput("Enter your password to sign.", fields={"password": ["required"]})
    since = timezone.now() - timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS)
    failures = LoginAttempt.objects.filter(email=user.email, succeeded=False, at__gte=since)
    if failures.count() >= settings.TRAVELER_LOGIN_MAX_FAILURES:
        last = failures.order_by("-at").values_list("at", flat=True).first()
        wait = int((last + timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS) - timezone.now()).total_seconds())
        raise LockedOut(
            f"Too many wrong passwords for {user.email}: signing is locked for {max(wait // 60, 1)} minute(s). "
            "Ask an administrator if you have forgotten your password.", retry_after=max(wait, 1))
    ok = user.check_password(password)
    LoginAttempt.objects.create(email=user.email, ip_address=ip, succeeded=ok, purpose=LoginAttempt.Purpose.SIGNATURE)
    if not ok:
        raise NotAuthenticated("The password is not correct: nothing was signed.", fields={"password": ["incorrect"]})
    return Confirmation(user=user, at=timezone.now())


# ---------- the content signed ----------

def record_content(obj, *, lock: bool = False) -> tuple[str, dict]:
    """The canonical text of ``obj``'s row as stored, and the parsed row."""
    model = type(obj)
    table, pk = model._meta.db_table, model._meta.pk.column
    exclude = list(getattr(model, "audit_exclude", ()))
    with connection.cursor() as cur:
        cur.execute(
            f'SELECT (to_jsonb(r) - %s::text[])::text FROM "{table}" r WHERE r."{pk}" = %s'
            + (" FOR UPDATE" if lock else ""),
            [exclude, obj.pk],
        )
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"This {model._meta.verbose_name} does not exist.")
    data = parse_row(row[0])
    return canonical(data), data


def _row_hash(prev: str, s: Signature) -> str:
    parts = [
        prev, str(s.tenant_id), str(s.signer_id), s.printed_name, s.signer_email,
        s.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), s.meaning, s.meaning_label, s.comment,
        str(s.record_type_id), s.record_id, str(s.record_version), s.record_label, s.content_hash, s.method,
    ]
    return sha256("|".join(p.replace("\\", "\\\\").replace("|", "\\|") for p in parts))


def signature_write(*, confirmation: Confirmation, record, meaning: str, comment: str = "",
                    expected_version: int | None = None) -> Signature:
    """Write ``confirmation.user``'s signature of ``record`` with ``meaning`` (11.50, 11.70).

    Runs in the caller's transaction; the record's row is locked while it is read, so what is signed
    is what is stored. ``expected_version``: the version the signer was shown; another one is a 409.
    """
    user = confirmation.user
    if (timezone.now() - confirmation.at).total_seconds() > CONFIRMATION_SECONDS:
        raise NotAuthenticated("The password confirmation has expired: enter your password again.")
    signable = signable_for(record)
    label = meaning_label(meaning, signable)
    if len(comment or "") > 2000:
        raise InvalidInput("The comment is too long (2,000 characters at most).", fields={"comment": ["too long"]})
    tenant = current_tenant()
    with transaction.atomic():
        content, data = record_content(record, lock=True)
        version = int(data.get("version") or 0)
        if expected_version is not None and expected_version != version:
            raise Conflict(
                f"This {record._meta.verbose_name} changed since you opened it (you saw version {expected_version}, "
                f"it is now at version {version}): review it again before signing.",
                fields={"version": [f"expected {version}, got {expected_version}"]})
        with connection.cursor() as cur:
            # One signer at a time per tenant: each signature is chained to the one before.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('core_signature'), %s)", [tenant.pk % 2**31])
        prev = Signature.objects.filter(tenant_id=tenant.pk).order_by("-id").values_list("row_hash", flat=True).first() or ""
        sig = Signature(
            tenant_id=tenant.pk, signer=user, printed_name=user.full_name or user.email, signer_email=user.email,
            signed_at=timezone.now(), meaning=meaning, meaning_label=label, comment=(comment or "").strip(),
            record_type=ContentType.objects.get_for_model(type(record)), record_id=str(record.pk),
            record_version=version, record_label=str(record)[:300], content=content, content_hash=sha256(content),
            prev_hash=prev,
        )
        sig.row_hash = _row_hash(prev, sig)
        sig.save(force_insert=True)
    return sig


def signature_sign(*, user: User, password: str, record, meaning: str, comment: str = "",
                   expected_version: int | None = None, ip: str | None = None) -> Signature:
    """Sign one record: confirm the password, then write the signature. See the module docstring."""
    signable = signable_for(record)
    if not signable.generic_signing:
        raise InvalidInput(f"{capfirst(str(record._meta.verbose_name))} records are signed by the action they "
                           "stand for, on their own page, not by a signature alone.", fields={"record": ["not here"]})
    meaning_label(meaning, signable)  # bad input is refused before the password is tried
    confirmation = password_confirm(user=user, password=password, ip=ip)
    return signature_write(confirmation=confirmation, record=record, meaning=meaning, comment=comment,
                           expected_version=expected_version)


# ---------- reading and showing ----------

def signatures_of(record) -> list[Signature]:
    ct = ContentType.objects.get_for_model(type(record))
    return list(Signature.objects.filter(tenant_id=current_tenant().pk, record_type=ct, record_id=str(record.pk))
                .select_related("signer").order_by("signed_at", "id"))


def format_signed_at(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def manifestation(sig: Signature, current_version: int | None) -> dict:
    """What every page and PDF shows of a signature (11.50): printed name, date and time with the
    time zone, meaning, the version signed and whether the record changed since."""
    changed = current_version is not None and current_version != sig.record_version
    return {
        "id": sig.pk, "printed_name": sig.printed_name, "signed_at": format_signed_at(sig.signed_at),
        "signed_at_iso": sig.signed_at.astimezone(UTC).isoformat(), "meaning": sig.meaning,
        "meaning_label": sig.meaning_label, "comment": sig.comment, "record_version": sig.record_version,
        "current_version": current_version, "changed_since": changed, "content_hash": sig.content_hash,
        "signer_active": sig.signer.is_active,
        "text": f"{sig.printed_name} — {sig.meaning_label} — {format_signed_at(sig.signed_at)}",
        "version_note": (f"signed version {sig.record_version}; the record is now at version {current_version}"
                         if changed else f"signed version {sig.record_version}"),
    }


def manifestations(record) -> list[dict]:
    current = getattr(record, "version", None)
    return [manifestation(s, current) for s in signatures_of(record)]


def records_visible(model, access):
    """The records of ``model`` this user may see: the role type's rows (``core.access.visible``),
    narrowed by the model's own ``visible`` hook when its registration has one."""
    from traveler.core.access import visible

    key = model._meta.label_lower
    spec = registry.signables.get(key) or registry.approvables.get(key)
    hook = getattr(spec, "visible", None)
    qs = hook(access=access) if hook else model.objects.all()
    return visible(qs, access)


# ---------- verification ----------

@dataclass(frozen=True)
class Problem:
    kind: str  # content_changed | changed | broken_chain | moved | not_as_recorded
    signature_id: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: signature #{self.signature_id}: {self.detail}"


def signatures_verify() -> tuple[int, list[Problem]]:
    """Recompute every signature's hashes (all tenants: run as the database owner).

    * ``content_changed``: the stored content no longer matches its SHA-256;
    * ``changed`` / ``broken_chain``: the signature row was edited, or a row removed or inserted
      between two others, out of band;
    * ``moved``: the content is not the row the signature names (another record, another version);
    * ``not_as_recorded``: the audit trail never held the record with that content at that version,
      so the signed content, or the record, was altered.
    """
    problems: list[Problem] = []
    count = 0
    prev_by_tenant: dict[int, str] = {}
    models = {ct.pk: ct.model_class() for ct in ContentType.objects.all()}
    for sig in Signature.objects.order_by("tenant_id", "id").iterator(chunk_size=500):
        count += 1
        prev = prev_by_tenant.get(sig.tenant_id, "")
        prev_by_tenant[sig.tenant_id] = sig.row_hash
        if sha256(sig.content) != sig.content_hash:
            problems.append(Problem("content_changed", sig.pk, "the signed content does not match its SHA-256"))
        if _row_hash(sig.prev_hash, sig) != sig.row_hash:
            problems.append(Problem("changed", sig.pk, "the signature row does not match its hash"))
        if sig.prev_hash != prev:
            problems.append(Problem("broken_chain", sig.pk, "the previous signature of this tenant is missing or was inserted"))
        try:
            data = parse_row(sig.content)
        except ValueError:
            problems.append(Problem("content_changed", sig.pk, "the signed content is not valid JSON"))
            continue
        pk_name = None
        model = models.get(sig.record_type_id)
        if model is not None:
            pk_name = model._meta.pk.column
        if str(data.get(pk_name or "id")) != sig.record_id or int(data.get("version") or 0) != sig.record_version:
            problems.append(Problem("moved", sig.pk, f"the content is not {sig.record_label} version {sig.record_version}"))
            continue
        if model is not None and not _as_recorded(model, sig):
            problems.append(Problem("not_as_recorded", sig.pk, (
                f"the audit trail has no state of {sig.record_label} at version {sig.record_version} equal to the "
                "content signed")))
    return count, problems


def _as_recorded(model, sig: Signature) -> bool:
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT new::text FROM core_history WHERE table_name = %s AND record_id = %s AND new IS NOT NULL "
            "AND new->>'version' = %s ORDER BY id", [table, sig.record_id, str(sig.record_version)])
        states = [r[0] for r in cur.fetchall()]
        if not states:  # a record without a trail: only its live row can vouch for it
            exclude = list(getattr(model, "audit_exclude", ()))
            cur.execute(f'SELECT (to_jsonb(r) - %s::text[])::text FROM "{table}" r WHERE r."{model._meta.pk.column}"::text = %s',
                        [exclude, sig.record_id])
            states = [r[0] for r in cur.fetchall()]
    return any(canonical(parse_row(s)) == sig.content for s in states)

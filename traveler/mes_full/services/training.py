"""Training: types, records, the training gate of a step, the matrix and expiry notices.

A record counts for its holder (is *current*) when it is active (not awaiting or refused approval),
not archived, and today is on or before its ``expires_on`` (its last valid day; empty: no expiry).
A step's training requirements refuse the advance of an operator without a current record of each
type, saying which training and since when it expired. With an approval template of type
``training_certificate``, a new record awaits that approval before it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import ApprovalTemplate, Membership, User
from traveler.core.registry import Refusal
from traveler.core.services.notifications import notify
from traveler.core.services.records import record_archive, record_create, record_update
from traveler.core.services.users import administrators
from traveler.core.tenancy import current_actor, current_tenant
from traveler.mes_full.choices import BlockKind, RequirementKind, TrainingState, TrainingStatus
from traveler.mes_full.models import TrainingRecord, TrainingType
from traveler.mes_full.services.requirements import evaluator

CERTIFICATE_TEMPLATE = "training_certificate"
EXPIRING_DAYS = 30  # a record expiring within this many days is "expiring soon"
# Notices before expiry (days left) and once expired ("expired"): each once per record and recipient.
NOTICE_THRESHOLDS = (30, 7)
MANAGE = "mes_full.change_trainingrecord"


# Training types ---------------------------------------------------------------------------------

def _type_check(data: dict) -> None:
    if "name" in data and not (data["name"] or "").strip():
        raise InvalidInput("Give the training a name.", fields={"name": ["required"]})
    days = data.get("validity_days")
    if days is not None and (not isinstance(days, int) or days < 1 or days > 36_500):
        raise InvalidInput("validity_days is a number of days from 1 to 36500 (empty: no expiry).",
                           fields={"validity_days": ["1 to 36500"]})


def training_type_create(*, data: dict, reason: str | None = None) -> TrainingType:
    _type_check(data)
    if TrainingType.objects.filter(name=(data.get("name") or "").strip()).exists():
        raise InvalidInput(f"A training type named '{data['name']}' exists already.", fields={"name": ["duplicate"]})
    return record_create(TrainingType, data={**data, "name": data["name"].strip()}, reason=reason)


def training_type_update(*, trainingtype: TrainingType, version: int | None, data: dict,
                         reason: str | None = None) -> TrainingType:
    """Change a training type. A new validity applies to records made afterwards; existing records keep
    the expiry they were given."""
    _type_check(data)
    if "name" in data:
        data = {**data, "name": data["name"].strip()}
        if TrainingType.objects.filter(name=data["name"]).exclude(pk=trainingtype.pk).exists():
            raise InvalidInput(f"A training type named '{data['name']}' exists already.", fields={"name": ["duplicate"]})
    return record_update(trainingtype, version=version, data=data, reason=reason)


def training_type_archive(*, trainingtype: TrainingType, version: int | None = None,
                          reason: str | None = None) -> TrainingType:
    if trainingtype.requirements.filter(archived_at__isnull=True).exists():
        raise Conflict(f"Steps still require '{trainingtype}': remove those requirements first.",
                       fields={"requirements": ["still required"]})
    return record_archive(trainingtype, version=version, reason=reason)


# Training records ---------------------------------------------------------------------------------

def certificate_template() -> ApprovalTemplate | None:
    """The tenant's approval template for training certificates (the first active one), if any."""
    return (ApprovalTemplate.objects.filter(template_type=CERTIFICATE_TEMPLATE, archived_at__isnull=True)
            .order_by("pk").first())


def _record_check(data: dict, today: date) -> dict:
    completed = data.get("completed_on")
    if not isinstance(completed, date):
        raise InvalidInput("Give the day the training was completed.", fields={"completed_on": ["required"]})
    if completed > today:
        raise InvalidInput("A training cannot be completed in the future.", fields={"completed_on": ["in the future"]})
    ttype = data.get("training_type")
    if not isinstance(ttype, TrainingType):
        raise InvalidInput("Say which training was completed.", fields={"training_type": ["required"]})
    if ttype.archived_at is not None:
        raise InvalidInput(f"'{ttype}' is archived.", fields={"training_type": ["archived"]})
    if not isinstance(data.get("user"), User):
        raise InvalidInput("Say who was trained.", fields={"user": ["required"]})
    expires = data.get("expires_on")
    if expires is not None and expires < completed:
        raise InvalidInput("A record cannot expire before the training was completed.",
                           fields={"expires_on": ["before completed_on"]})
    if data.get("trainer") is not None and data["trainer"] == data["user"]:
        raise InvalidInput("A person does not train themselves: name the trainer.", fields={"trainer": ["same as user"]})
    return data


def _member(user: User, field: str) -> None:
    if not Membership.objects.filter(tenant_id=current_tenant().pk, user=user, is_active=True).exists():
        raise InvalidInput(f"{user} is not a member of this tenant.", fields={field: ["not a member"]})


def training_record_create(*, data: dict, reason: str | None = None) -> TrainingRecord:
    """Record a completed training. ``expires_on`` follows from the type's validity unless given. With
    a training certificate approval template, the record awaits its approval (and does not count) until
    approved; otherwise it counts at once."""
    from traveler.core.services.approvals import approval_request_create

    data = _record_check(dict(data), timezone.localdate())
    _member(data["user"], "user")
    if data.get("trainer") is not None:
        _member(data["trainer"], "trainer")
    ttype = data["training_type"]
    if data.get("expires_on") is None and ttype.validity_days:
        data["expires_on"] = data["completed_on"] + timedelta(days=ttype.validity_days)
    template = certificate_template()
    data["status"] = TrainingStatus.PENDING_APPROVAL if template else TrainingStatus.ACTIVE
    with transaction.atomic():
        record = record_create(TrainingRecord, data=data, reason=reason)
        if template is not None:
            approval_request_create(record=record, template=template, requested_by=current_actor() or data["user"],
                                    notes=f"Training certificate: {ttype} for {data['user']}, completed "
                                          f"{data['completed_on']:%Y-%m-%d}.")
    return record


def training_record_update(*, trainingrecord: TrainingRecord, version: int | None, data: dict,
                           reason: str | None = None) -> TrainingRecord:
    """Correct a record's dates, trainer, evidence or note; who was trained in what stays."""
    fixed = [f for f in ("user", "training_type", "status") if f in data and data[f] != getattr(trainingrecord, f)]
    if fixed:
        raise InvalidInput("A record stays with its person and training: archive it and record another.",
                           fields={f: ["cannot change"] for f in fixed})
    merged = {f: getattr(trainingrecord, f) for f in ("user", "training_type", "completed_on", "expires_on", "trainer")}
    merged.update(data)
    _record_check(merged, timezone.localdate())
    if data.get("trainer") is not None:
        _member(data["trainer"], "trainer")
    return record_update(trainingrecord, version=version, data=data, reason=reason)


def training_record_archive(*, trainingrecord: TrainingRecord, version: int | None = None,
                            reason: str | None = None) -> TrainingRecord:
    """Withdraw a record (it no longer counts); it stays readable with its history."""
    return record_archive(trainingrecord, version=version, reason=reason)


def training_approval_decided(*, record_id: Any, approved: bool, reason: str) -> TrainingRecord | None:
    """The approval of a training certificate was given (the record counts) or refused or cancelled (it
    never will). A retried delivery after the record moved changes nothing."""
    with transaction.atomic():
        record = TrainingRecord.objects.select_for_update().filter(pk=record_id).first()
        if record is None or record.status != TrainingStatus.PENDING_APPROVAL:
            return None
        status = TrainingStatus.ACTIVE if approved else TrainingStatus.REJECTED
        return record_update(record, version=record.version, data={"status": status}, reason=reason)


# What counts -------------------------------------------------------------------------------------

def _candidates(user_ids, type_ids):
    """Unarchived records of these people and types that are active or awaiting approval, latest first."""
    return (TrainingRecord.objects.filter(user_id__in=user_ids, training_type_id__in=type_ids,
                                          archived_at__isnull=True)
            .exclude(status=TrainingStatus.REJECTED)
            .order_by("user_id", "training_type_id", "-completed_on", "-pk"))


@dataclass(frozen=True)
class Standing:
    """One person's standing in one training type on a day: the state and the record it rests on."""

    state: str
    record: TrainingRecord | None = None

    @property
    def expires_on(self) -> date | None:
        return self.record.expires_on if self.record else None


def _standing(records: list[TrainingRecord], today: date, within: int = EXPIRING_DAYS) -> Standing:
    active = [r for r in records if r.status == TrainingStatus.ACTIVE and r.completed_on <= today]
    current = [r for r in active if r.expires_on is None or r.expires_on >= today]
    if current:
        best = next((r for r in current if r.expires_on is None), None) or max(current, key=lambda r: r.expires_on)
        if best.expires_on is not None and best.expires_on <= today + timedelta(days=within):
            return Standing(TrainingState.EXPIRING, best)
        return Standing(TrainingState.CURRENT, best)
    pending = [r for r in records if r.status == TrainingStatus.PENDING_APPROVAL]
    if pending:
        return Standing(TrainingState.PENDING, pending[0])
    if active:
        return Standing(TrainingState.EXPIRED, max(active, key=lambda r: r.expires_on))
    return Standing(TrainingState.MISSING)


def training_standings(*, user_ids: list[int], type_ids: list[int], today: date | None = None,
                       within: int = EXPIRING_DAYS) -> dict[tuple[int, int], Standing]:
    """Each (user id, type id)'s standing on ``today``, in one query."""
    today = today or timezone.localdate()
    grouped: dict[tuple[int, int], list[TrainingRecord]] = {}
    for r in _candidates(user_ids, type_ids):
        grouped.setdefault((r.user_id, r.training_type_id), []).append(r)
    return {(u, t): _standing(grouped.get((u, t), []), today, within) for u in user_ids for t in type_ids}


# The gate ------------------------------------------------------------------------------------------

def _refusal_text(ttype: TrainingType, standing: Standing, operator: User) -> str:
    if standing.state == TrainingState.EXPIRED:
        return f"{ttype.name} expired on {standing.expires_on:%Y-%m-%d}: ask your supervisor."
    if standing.state == TrainingState.PENDING:
        return (f"{ttype.name}: the training record of {standing.record.completed_on:%Y-%m-%d} awaits its approval "
                "and does not count yet: ask your supervisor.")
    return f"{ttype.name}: {operator} has no training record: ask your supervisor."


@evaluator(RequirementKind.TRAINING)
def _training(requirements, *, operator, today, **_) -> list[Refusal]:
    """Refuse an operator without a current record of each training type the step requires (one query
    for all of them)."""
    types = {r.training_type_id: r.training_type for r in requirements}
    if operator is None:
        names = ", ".join(t.name for t in types.values())
        return [Refusal(f"A trained operator advances parts here ({names}): sign in.", kind=BlockKind.TRAINING_EXPIRED)]
    standings = training_standings(user_ids=[operator.pk], type_ids=list(types), today=today)
    refusals = []
    for type_id, ttype in types.items():
        standing = standings[(operator.pk, type_id)]
        if standing.state not in (TrainingState.CURRENT, TrainingState.EXPIRING):
            refusals.append(Refusal(_refusal_text(ttype, standing, operator), kind=BlockKind.TRAINING_EXPIRED))
    return refusals


# The matrix and expiry ---------------------------------------------------------------------------

def training_people() -> list[User]:
    """The tenant's active members, by name: the rows of the training matrix."""
    tenant = current_tenant()
    return list(User.objects.filter(memberships__tenant_id=tenant.pk, memberships__is_active=True,
                                    memberships__accepted_at__isnull=False, is_active=True)
                .distinct().order_by("full_name", "pk"))


def training_matrix(*, today: date | None = None, people: list[User] | None = None,
                    types: list[TrainingType] | None = None) -> dict[str, Any]:
    """People × training types with each one's standing (current, expiring soon, expired, awaiting
    approval, missing) on ``today``."""
    today = today or timezone.localdate()
    people = training_people() if people is None else people
    types = list(TrainingType.objects.filter(archived_at__isnull=True).order_by("name")) if types is None else types
    standings = training_standings(user_ids=[u.pk for u in people], type_ids=[t.pk for t in types], today=today)
    rows = [{"user": u, "cells": [{"type": t, "standing": standings[(u.pk, t.pk)]} for t in types]} for u in people]
    return {"today": today, "types": types, "rows": rows}


def _renewed():
    """A later active record of the same person and type, lasting longer than this one (OuterRef)."""
    later = TrainingRecord.objects.filter(
        user_id=OuterRef("user_id"), training_type_id=OuterRef("training_type_id"), archived_at__isnull=True,
        status=TrainingStatus.ACTIVE).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("expires_on")))
    return Exists(later)


def training_expiring(*, today: date | None = None, within: int = EXPIRING_DAYS, since: int = 0):
    """Active records whose expiry falls from ``since`` days ago to ``within`` days from ``today`` and that
    no longer-lasting record of the same person and type renews: what needs renewing."""
    today = today or timezone.localdate()
    return (TrainingRecord.objects.filter(archived_at__isnull=True, status=TrainingStatus.ACTIVE,
                                          expires_on__gte=today - timedelta(days=since),
                                          expires_on__lte=today + timedelta(days=within))
            .exclude(_renewed()).select_related("user", "training_type").order_by("expires_on", "pk"))


def training_managers() -> list[User]:
    """Who is told about expiring training besides the holder: members whose role may change training
    records (``mes_full.change_trainingrecord``)."""
    ids = administrators(current_tenant().pk, MANAGE).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _threshold(days_left: int) -> str | None:
    if days_left < 0:
        return "expired"
    fitting = [t for t in NOTICE_THRESHOLDS if days_left <= t]
    return f"{min(fitting)}d" if fitting else None


def training_expiry_notify(*, today: date | None = None) -> int:
    """Tell holders and their managers about records expiring within 30 days, within 7 days, and expired
    (in the last 30 days, not renewed): once per record, threshold and recipient however often it runs.
    Returns how many notices went out."""
    today = today or timezone.localdate()
    managers = training_managers()
    records = list(training_expiring(today=today, within=max(NOTICE_THRESHOLDS), since=EXPIRING_DAYS))
    sent = 0
    url = reverse("mes_full:training-expiring")
    for record in records:
        threshold = _threshold((record.expires_on - today).days)
        if threshold is None:
            continue
        if threshold == "expired":
            title = f"Training expired: {record.training_type.name} of {record.user}"
            body = f"{record.training_type.name} of {record.user} expired on {record.expires_on:%Y-%m-%d}."
        else:
            title = f"Training expiring: {record.training_type.name} of {record.user}"
            body = (f"{record.training_type.name} of {record.user} expires on {record.expires_on:%Y-%m-%d}: "
                    "plan the renewal.")
        recipients = list({u.pk: u for u in [record.user, *managers]}.values())
        sent += len(notify(recipients=recipients, kind="mes_full.training.expiring", title=title[:200], body=body,
                           url=url, dedupe_key=f"mes_full.training:{record.pk}:{threshold}"))
    return sent

"""Generic writes on tenant-owned records: create, versioned update, archive and restore.

Entity services call these so that every module gets optimistic concurrency, archive-instead-of
-delete and reasons in the history the same way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, stale
from traveler.core.models.base import TenantModel
from traveler.core.tenancy import audit_reason

M = TypeVar("M", bound=TenantModel)


def _label(model) -> str:
    return str(model._meta.verbose_name)


def _integrity(exc: IntegrityError, model) -> InvalidInput:
    constraint = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(constraint, "constraint_name", "") or ""
    for c in model._meta.constraints:
        if c.name == name and getattr(c, "fields", None):
            fields = list(c.fields)
            return InvalidInput(
                f"A {_label(model)} with this {' and '.join(f for f in fields if f != 'tenant')} already exists.",
                fields={f: ["must be unique"] for f in fields if f != "tenant"},
            )
    return InvalidInput(f"The {_label(model)} could not be saved: {exc.__cause__ or exc}")


def record_create(model: type[M], *, data: dict[str, Any], reason: str | None = None) -> M:
    obj = model(**data)
    _validate(obj, exclude=["tenant"])
    try:
        with transaction.atomic(), audit_reason(reason):
            obj.save()
    except IntegrityError as exc:
        raise _integrity(exc, model) from exc
    return obj


def record_update(obj: M, *, version: int | None, data: dict[str, Any], reason: str | None = None) -> M:
    """Apply ``data`` if the record is still at ``version``; otherwise raise Conflict (409)."""
    model = type(obj)
    if version is None:
        raise InvalidInput("The record's version is required to change it.", fields={"version": ["required"]})
    if obj.archived_at is not None:
        raise Conflict(f"This {_label(model)} is archived; restore it before changing it.")
    for k, v in data.items():
        setattr(obj, k, v)
    _validate(obj, exclude=["tenant"])
    attnames = [model._meta.get_field(k).attname for k in data]
    values = {a: getattr(obj, a) for a in attnames}
    try:
        with transaction.atomic(), audit_reason(reason):
            n = model.objects.filter(pk=obj.pk, version=version, archived_at__isnull=True).update(
                **values, version=F("version") + 1, updated_at=timezone.now()
            )
            if n == 0:
                current = model.objects.filter(pk=obj.pk).values_list("version", flat=True).first()
                raise stale(_label(model), obj.pk, version, current)
    except IntegrityError as exc:
        raise _integrity(exc, model) from exc
    obj.refresh_from_db()
    return obj


def record_archive(obj: M, *, version: int | None = None, reason: str | None = None) -> M:
    model = type(obj)
    if obj.archived_at is not None:
        raise Conflict(f"This {_label(model)} is already archived.")
    with transaction.atomic(), audit_reason(reason):
        qs = model.objects.filter(pk=obj.pk, archived_at__isnull=True)
        if version is not None:
            qs = qs.filter(version=version)
        n = qs.update(archived_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now())
        if n == 0:
            current = model.objects.filter(pk=obj.pk).values_list("version", flat=True).first()
            raise stale(_label(model), obj.pk, version or 0, current)
    obj.refresh_from_db()
    return obj


def record_restore(obj: M, *, reason: str | None = None) -> M:
    model = type(obj)
    if obj.archived_at is None:
        raise Conflict(f"This {_label(model)} is not archived.")
    with transaction.atomic(), audit_reason(reason):
        model.objects.filter(pk=obj.pk).update(
            archived_at=None, version=F("version") + 1, updated_at=timezone.now()
        )
    obj.refresh_from_db()
    return obj


def _validate(obj, exclude: list[str]) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        first = next(iter(fields.items()))
        raise InvalidInput(f"{first[0]}: {first[1][0]}", fields=fields) from exc

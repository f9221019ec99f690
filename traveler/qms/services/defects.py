"""Defect codes: create and change them with their limits (part types, steps). Archived, not deleted
(``record_archive``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from traveler.core.errors import InvalidInput
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_tenant
from traveler.qms.models import QualityErrorPartType, QualityErrorsList, QualityErrorStep

LIMITS = {"part_types": (QualityErrorPartType, "part_type"), "steps": (QualityErrorStep, "step")}


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list]]:
    data = dict(data)
    limits = {}
    for name in LIMITS:
        if name in data:
            value = data.pop(name)
            items = list(value or [])
            archived = [str(i) for i in items if getattr(i, "archived_at", None) is not None]
            if archived:
                raise InvalidInput(f"{name}: archived records cannot limit a defect code ({', '.join(archived)}).",
                                   fields={name: ["archived"]})
            limits[name] = list(dict.fromkeys(items))
    if "code" in data and isinstance(data["code"], str):
        data["code"] = data["code"].strip()
    return data, limits


def _set_limits(error: QualityErrorsList, limits: dict[str, list]) -> None:
    for name, items in limits.items():
        link, column = LIMITS[name]
        wanted = {i.pk for i in items}
        current = set(link.objects.filter(error=error).values_list(f"{column}_id", flat=True))
        link.objects.filter(error=error, **{f"{column}_id__in": current - wanted}).delete()
        link.objects.bulk_create([link(tenant=current_tenant(), error=error, **{f"{column}_id": pk})
                                  for pk in wanted - current])


def defect_code_create(*, data: dict[str, Any], reason: str | None = None) -> QualityErrorsList:
    """A new defect code; ``part_types`` and ``steps`` (lists) limit where it may be recorded."""
    fields, limits = _split(data)
    with transaction.atomic(), audit_reason(reason):
        error = record_create(QualityErrorsList, data=fields, reason=reason)
        _set_limits(error, limits)
    return error


def defect_code_update(*, defect_code: QualityErrorsList, version: int | None, data: dict[str, Any],
                       reason: str | None = None) -> QualityErrorsList:
    """Change a defect code; ``part_types`` or ``steps``, when given, replace its limits."""
    fields, limits = _split(data)
    with transaction.atomic(), audit_reason(reason):
        error = record_update(defect_code, version=version, data=fields, reason=reason)
        _set_limits(error, limits)
    return error

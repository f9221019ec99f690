"""Root-cause analysis of a CAPA: its method, a summary, and the structured analysis written as a whole
(the lists given replace the ones recorded):

- ``whys``: the 5 Whys, in order, each ``{"question", "answer"}``;
- ``causes``: fishbone causes, each ``{"category", "description"}`` under one of the six Ms;
- ``root_causes``: each ``{"description", "category" (optional), "is_primary"}``; when there are any,
  exactly one is primary.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_tenant
from traveler.qms.choices import CAPA_ACTIVE, FishboneCategory, RcaMethod
from traveler.qms.models import CAPA, FishboneCause, FiveWhy, RcaRecord, RootCause

LISTS = ("whys", "causes", "root_causes")
MAX_ROWS = 200


def _text(item: Any, key: str, field: str, *, required: bool = True, limit: int | None = None) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(f"{field}: required.", fields={field: ["required"]})
    if limit and len(text) > limit:
        raise InvalidInput(f"{field}: {limit} characters at most.", fields={field: [f"{limit} characters at most"]})
    return text


def _rows(raw: Any, name: str) -> list:
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise InvalidInput(f"{name} must be a list.", fields={name: ["must be a list"]})
    if len(raw) > MAX_ROWS:
        raise InvalidInput(f"{name}: {MAX_ROWS} rows at most.", fields={name: [f"{MAX_ROWS} at most"]})
    return list(raw)


def _category(item: Any, field: str, *, required: bool) -> str:
    value = item.get("category") if isinstance(item, dict) else None
    if not value and not required:
        return ""
    if value not in FishboneCategory.values:
        raise InvalidInput(f"{field}: one of the six Ms ({', '.join(FishboneCategory.values)}).",
                           fields={field: ["invalid choice"]})
    return value


def _parse(data: dict[str, Any]) -> dict[str, list]:
    out: dict[str, list] = {}
    if "whys" in data:
        out["whys"] = [(_text(w, "question", f"whys[{i}].question"), _text(w, "answer", f"whys[{i}].answer"))
                       for i, w in enumerate(_rows(data["whys"], "whys"))]
    if "causes" in data:
        out["causes"] = [(_category(c, f"causes[{i}].category", required=True),
                          _text(c, "description", f"causes[{i}].description", limit=300))
                         for i, c in enumerate(_rows(data["causes"], "causes"))]
    if "root_causes" in data:
        roots = []
        for i, r in enumerate(_rows(data["root_causes"], "root_causes")):
            primary = r.get("is_primary", False) if isinstance(r, dict) else False
            if not isinstance(primary, bool):
                raise InvalidInput(f"root_causes[{i}].is_primary: true or false.",
                                   fields={f"root_causes[{i}].is_primary": ["a boolean"]})
            roots.append((_text(r, "description", f"root_causes[{i}].description"),
                          _category(r, f"root_causes[{i}].category", required=False), primary))
        primaries = sum(1 for *_, p in roots if p)
        if roots and primaries != 1:
            raise InvalidInput(f"Mark exactly one root cause as the primary one ({primaries} marked).",
                               fields={"root_causes": ["exactly one primary"]})
        out["root_causes"] = roots
    return out


def _write(rca: RcaRecord, lists: dict[str, list]) -> None:
    tenant = current_tenant()
    if "whys" in lists:
        FiveWhy.objects.filter(rca=rca).delete()
        FiveWhy.objects.bulk_create([FiveWhy(tenant=tenant, rca=rca, position=i, question=q, answer=a)
                                     for i, (q, a) in enumerate(lists["whys"], start=1)])
    if "causes" in lists:
        FishboneCause.objects.filter(rca=rca).delete()
        FishboneCause.objects.bulk_create([FishboneCause(tenant=tenant, rca=rca, category=c, description=d)
                                           for c, d in lists["causes"]])
    if "root_causes" in lists:
        RootCause.objects.filter(rca=rca).delete()
        RootCause.objects.bulk_create([RootCause(tenant=tenant, rca=rca, description=d, category=c, is_primary=p)
                                       for d, c, p in lists["root_causes"]])


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - {"capa", "method", "summary", *LISTS}
    if unknown:
        raise InvalidInput(f"Not a field of a root-cause analysis: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})
    out = {}
    if "method" in data:
        if data["method"] not in RcaMethod.values:
            raise InvalidInput(f"method: one of {', '.join(RcaMethod.values)}.", fields={"method": ["invalid choice"]})
        out["method"] = data["method"]
    if "summary" in data:
        out["summary"] = (data["summary"] or "").strip()
    return out


def _check_capa(capa: CAPA) -> None:
    if capa.state not in CAPA_ACTIVE:
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}: its analysis no longer changes.",
                       fields={"capa": [capa.state]})


def rca_create(*, data: dict[str, Any], reason: str | None = None) -> RcaRecord:
    """Record the root-cause analysis of an active CAPA (one per CAPA), with its lists."""
    capa = data.get("capa")
    if not isinstance(capa, CAPA):
        raise InvalidInput("capa: required.", fields={"capa": ["required"]})
    _check_capa(capa)
    scalars = _scalars(data)
    lists = _parse(data)
    if RcaRecord.objects.filter(capa=capa).exists():
        raise Conflict(f"{capa} already has its root-cause analysis: change that one.", fields={"capa": ["has one"]})
    with transaction.atomic(), audit_reason(reason):
        rca = record_create(RcaRecord, data={"capa": capa, **scalars}, reason=reason)
        _write(rca, lists)
    return rca


def rca_update(*, rca: RcaRecord, version: int | None, data: dict[str, Any], reason: str | None = None) -> RcaRecord:
    """Change an analysis while its CAPA is active; a list given replaces the one recorded, and the
    record's version moves on with any change, lists included."""
    if "capa" in data and getattr(data["capa"], "pk", data["capa"]) != rca.capa_id:
        raise InvalidInput("An analysis's CAPA does not change.", fields={"capa": ["cannot change"]})
    _check_capa(rca.capa)
    scalars = _scalars({k: v for k, v in data.items() if k != "capa"})
    lists = _parse(data)
    with transaction.atomic(), audit_reason(reason):
        # The version moves on with the lists too: what a signature or a reader saw is that version.
        rca = record_update(rca, version=version, data=scalars or {"method": rca.method}, reason=reason)
        _write(rca, lists)
    return rca


def rca_save(*, capa: CAPA, data: dict[str, Any], version: int | None = None, reason: str | None = None) -> RcaRecord:
    """Create the CAPA's analysis, or change the one it has (at ``version``)."""
    existing = RcaRecord.objects.filter(capa=capa).first()
    if existing is None:
        return rca_create(data={**data, "capa": capa}, reason=reason)
    return rca_update(rca=existing, version=version if version is not None else existing.version, data=data,
                      reason=reason)

"""Baselines: control limits computed from a phase I range, reviewed, frozen with a signature.

``baseline_compute`` makes a draft from the characteristic's current settings and the chosen range
(dates, work orders, subgroups excluded with a reason); ``baseline_freeze`` signs it (meaning
"approved") and makes it the active baseline, superseding the one before with a reason, in one
transaction; ``baseline_discard`` drops a draft. What is frozen is the center line and the process
sigma: the engine draws each subgroup's limits from them (so subgroups of unequal size keep exact
limits), and the limits shown are those of the baseline's subgroup size.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish_many
from traveler.core.models import User
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason, current_actor
from traveler.mes_lite.models import MeasurementDefinition, WorkOrder
from traveler.spc.choices import BaselineStatus, ChartType
from traveler.spc.events import BaselineFrozen
from traveler.spc.models import SPCBaseline
from traveler.spc.services.characteristics import (
    Filters,
    _check_numeric,
    characteristic_for,
    engine_data,
    measurements,
    subgroups,
)
from traveler.spc.stats import StatsInputError, build_chart

MIN_SUBGROUPS = {ChartType.IMR: 20, ChartType.XBAR_R: 20, ChartType.XBAR_S: 20}  # AIAG SPC manual: 20-25 subgroups


def _decimal(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal("1e-10"))


def _first(value) -> float:
    """A chart line's value: a constant, or the first subgroup's that has one (the first moving range
    has none)."""
    line = np.atleast_1d(np.asarray(value, dtype=float))
    return float(line[np.isfinite(line)][0])


def _excluded(raw: Any) -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, (list, tuple)):
        raise InvalidInput("excluded must be a list of {key, reason}.", fields={"excluded": ["must be a list"]})
    out, seen = [], set()
    for i, item in enumerate(raw):
        key = item.get("key") if isinstance(item, dict) else None
        reason = str(item.get("reason") or "").strip() if isinstance(item, dict) else ""
        if isinstance(key, bool) or not isinstance(key, int):
            raise InvalidInput("Each excluded subgroup is named by its key.", fields={f"excluded[{i}].key": ["required"]})
        if not reason:
            raise InvalidInput(f"Say why subgroup {key} is excluded.", fields={f"excluded[{i}].reason": ["required"]})
        if key in seen:
            raise InvalidInput(f"Subgroup {key} is excluded twice.", fields={f"excluded[{i}].key": ["duplicate"]})
        seen.add(key)
        out.append({"key": key, "reason": reason[:500]})
    return out


def baseline_compute(*, definition: MeasurementDefinition, range_from: datetime | None = None,
                     range_to: datetime | None = None, work_orders: list[WorkOrder] | None = None,
                     excluded: Any = None, notes: str = "") -> SPCBaseline:
    """A draft baseline of ``definition`` from phase I: the measurements in [range_from, range_to) of
    ``work_orders`` (any when empty), formed into subgroups by the characteristic's settings, minus
    the ``excluded`` subgroups ({"key": first measurement id, "reason"}). At least 20 subgroups."""
    _check_numeric(definition)
    if range_from and range_to and range_from >= range_to:
        raise InvalidInput("The range ends before it starts.", fields={"range_to": ["before range_from"]})
    c = characteristic_for(definition)
    wo_ids = tuple(sorted({w.pk for w in work_orders or []}))
    groups = subgroups(measurements(definition, Filters(work_orders=wo_ids, date_from=range_from, date_to=range_to)), c)
    skip = _excluded(excluded)
    keys = {g.key for g in groups}
    strangers = [x["key"] for x in skip if x["key"] not in keys]
    if strangers:
        raise InvalidInput(f"Not a subgroup of this range: {', '.join(map(str, strangers))}.",
                           fields={"excluded": ["not in the range"]})
    kept = [g for g in groups if g.key not in {x["key"] for x in skip}]
    need = MIN_SUBGROUPS[c.chart_type]
    if len(kept) < need:
        unit = "points" if c.chart_type == ChartType.IMR else "subgroups"
        raise InvalidInput(f"Phase I has {len(kept)} {unit}; a baseline needs at least {need}. Widen the range.",
                           fields={"range_from": [f"{len(kept)} {unit}, {need} needed"]})
    try:
        chart = build_chart(chart_type=c.chart_type, data=engine_data(kept, c.chart_type))
    except StatsInputError as exc:
        raise InvalidInput(f"{exc.field}: {exc.message}.", fields={exc.field: [exc.message]}) from exc
    primary, secondary = chart.primary, chart.secondary
    with transaction.atomic():
        return SPCBaseline.objects.create(
            definition=definition, status=BaselineStatus.DRAFT, chart_type=c.chart_type,
            subgroup_size=c.subgroup_size, subgrouping=c.subgrouping, range_from=range_from, range_to=range_to,
            work_order_ids=list(wo_ids), excluded=skip, sample_count=sum(len(g.rows) for g in kept),
            subgroup_count=len(kept), center=_decimal(_first(primary.center)), ucl=_decimal(_first(primary.ucl)),
            lcl=_decimal(_first(primary.lcl)), sigma=_decimal(chart.sigma),
            secondary_center=_decimal(_first(secondary.center)), secondary_ucl=_decimal(_first(secondary.ucl)),
            secondary_lcl=_decimal(_first(secondary.lcl)), notes=(notes or "").strip(), computed_by=current_actor())


def _locked(baseline: SPCBaseline) -> SPCBaseline:
    return SPCBaseline.objects.select_for_update().get(pk=baseline.pk)


def baseline_freeze(*, baseline: SPCBaseline, user: User, password: str, reason: str | None = None,
                    version: int | None = None, ip: str | None = None) -> SPCBaseline:
    """Freeze a draft: ``user`` signs it (meaning "approved") and it becomes the active baseline of
    its characteristic. The active one before is superseded by it; then ``reason`` is required."""
    confirmation = password_confirm(user=user, password=password, ip=ip)
    reason = (reason or "").strip()
    with transaction.atomic(), audit_reason(reason or "Baseline frozen"):
        new = _locked(baseline)
        if new.status != BaselineStatus.DRAFT:
            raise Conflict(f"{new} is {new.get_status_display().lower()}: only a draft can be frozen.")
        if version is not None and version != new.version:
            raise Conflict(f"{new} changed since you reviewed it: review it again.",
                           fields={"version": [f"expected {new.version}, got {version}"]})
        old = (SPCBaseline.objects.select_for_update()
               .filter(definition_id=new.definition_id, status=BaselineStatus.ACTIVE).first())
        if old is not None and not reason:
            raise InvalidInput(f"Say why {old} is superseded.", fields={"reason": ["required"]})
        now = timezone.now()
        if old is not None:
            SPCBaseline.objects.filter(pk=old.pk).update(
                status=BaselineStatus.SUPERSEDED, superseded_by=new, superseded_at=now, superseded_reason=reason,
                version=F("version") + 1, updated_at=now)
        SPCBaseline.objects.filter(pk=new.pk).update(status=BaselineStatus.ACTIVE, frozen_by=user, frozen_at=now,
                                                     version=F("version") + 1, updated_at=now)
        new.refresh_from_db()
        signature_write(confirmation=confirmation, record=new, meaning="approved", comment=reason)
        publish_many([BaselineFrozen(baseline_id=new.pk, definition_id=new.definition_id,
                                     superseded_id=old.pk if old else None)])
    return new


def baseline_discard(*, baseline: SPCBaseline, reason: str | None = None) -> SPCBaseline:
    """Drop a draft that will not be frozen (it stays in the history, marked discarded)."""
    with transaction.atomic(), audit_reason(reason or "Baseline discarded"):
        b = _locked(baseline)
        if b.status != BaselineStatus.DRAFT:
            raise Conflict(f"{b} is {b.get_status_display().lower()}: only a draft can be discarded.")
        SPCBaseline.objects.filter(pk=b.pk).update(status=BaselineStatus.DISCARDED, version=F("version") + 1,
                                                   updated_at=timezone.now())
    b.refresh_from_db()
    return b

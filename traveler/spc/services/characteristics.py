"""Characteristics: the traveler's numeric measurements as control charts.

``measurements`` reads the recorded values of one definition (filtered by part type, step, work order,
equipment, operator and period), ``subgroups`` forms the chart's subgroups from them as the
characteristic's settings say, and ``characteristic_chart`` computes the chart with the statistics
engine against the active frozen baseline, or with trial limits when there is none. The engine is
the only statistics code: this module only selects and groups numbers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, FloatField, Func
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.services.records import record_update
from traveler.core.tenancy import audit_reason
from traveler.mes_lite.choices import MeasurementKind
from traveler.mes_lite.models import EquipmentUsage, MeasurementDefinition, StepMeasurement
from traveler.spc.choices import BaselineStatus, ChartType, Subgrouping
from traveler.spc.models import Characteristic, SPCBaseline
from traveler.spc.stats import StatsInputError, analyze, normalize_rules

DEFAULTS: dict[str, Any] = {
    "chart_type": ChartType.IMR, "subgroup_size": 1, "subgrouping": Subgrouping.CONSECUTIVE, "window_minutes": 60,
    "shift_start": time(6, 0), "shift_hours": 8, "rules": "nelson", "show_capability": True,
    "spec_lower": None, "spec_upper": None, "target": None,
}
SETTINGS = tuple(DEFAULTS)
MAX_SUBGROUP = 25  # the engine's tables of constants go this far for R and S charts


def numeric_definitions():
    """The definitions that are characteristics: numeric and not archived, with their step's route."""
    return (MeasurementDefinition.objects.filter(kind=MeasurementKind.NUMERIC, archived_at__isnull=True)
            .select_related("step__process__part_type"))


def definition_or_404(pk) -> MeasurementDefinition:
    """The characteristic's definition named in a URL: a page or the API answers 404 for anything else
    (another tenant's, archived, pass / fail)."""
    found = numeric_definitions().filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


def characteristic_for(definition: MeasurementDefinition) -> Characteristic:
    """The definition's chart settings: its saved row, or an unsaved one with the defaults."""
    found = Characteristic.objects.filter(definition=definition).first()
    return found or Characteristic(definition=definition, **DEFAULTS)


def _check_numeric(definition: MeasurementDefinition) -> None:
    if definition.kind != MeasurementKind.NUMERIC:
        raise InvalidInput(f"{definition.label} is a pass / fail measurement: only numeric ones are charted.",
                           fields={"definition": ["not numeric"]})


def _check_settings(c: Characteristic) -> None:
    errors: dict[str, list[str]] = {}
    if c.chart_type not in ChartType.values:
        errors["chart_type"] = [f"one of {', '.join(ChartType.values)}"]
    if c.subgrouping not in Subgrouping.values:
        errors["subgrouping"] = [f"one of {', '.join(Subgrouping.values)}"]
    if c.chart_type == ChartType.IMR:
        if c.subgrouping != Subgrouping.CONSECUTIVE or c.subgroup_size != 1:
            errors["subgroup_size"] = ["an I-MR chart plots each part: subgroup size 1, consecutive parts"]
    elif c.subgrouping == Subgrouping.CONSECUTIVE and not 2 <= (c.subgroup_size or 0) <= MAX_SUBGROUP:
        errors["subgroup_size"] = [f"between 2 and {MAX_SUBGROUP} for an X̄ chart"]
    if c.subgrouping == Subgrouping.TIME_WINDOW and not 1 <= (c.window_minutes or 0) <= 7 * 24 * 60:
        errors["window_minutes"] = ["between 1 minute and a week"]
    if c.subgrouping == Subgrouping.SHIFT and not 1 <= (c.shift_hours or 0) <= 24:
        errors["shift_hours"] = ["between 1 and 24"]
    try:
        normalize_rules(rule_selection(c))
    except StatsInputError as exc:
        errors["rules"] = [exc.message]
    lower, upper = _spec(c)
    if lower is not None and upper is not None and lower >= upper:
        errors["spec_lower"] = ["must be below the upper specification"]
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"{first}: {errors[first][0]}.", fields=errors)


def characteristic_save(*, definition: MeasurementDefinition, data: dict[str, Any], version: int | None = None,
                        reason: str | None = None) -> Characteristic:
    """Save how ``definition`` is charted (``data``: any of ``SETTINGS``; the rest keep their values)."""
    _check_numeric(definition)
    unknown = set(data) - set(SETTINGS)
    if unknown:
        raise InvalidInput(f"Not a chart setting: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})
    current = characteristic_for(definition)
    if current.pk is None:
        for k, v in data.items():
            setattr(current, k, v)
        _check_settings(current)
        try:
            with transaction.atomic(), audit_reason(reason):
                current.save()
        except IntegrityError:
            raise Conflict("Someone else saved this characteristic's settings meanwhile: review them again.") from None
        return current
    probe = Characteristic(**{k: getattr(current, k) for k in SETTINGS}, definition=definition)
    for k, v in data.items():
        setattr(probe, k, v)
    _check_settings(probe)
    return record_update(current, version=version, data=data, reason=reason)


def active_baseline(definition: MeasurementDefinition) -> SPCBaseline | None:
    return SPCBaseline.objects.filter(definition=definition, status=BaselineStatus.ACTIVE).first()


@dataclass(frozen=True)
class Filters:
    part_type: int | None = None
    step: int | None = None
    work_orders: tuple[int, ...] = ()
    equipment: int | None = None
    operator: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    last: int | None = None  # only the last so many values (still oldest first)


class Row(NamedTuple):
    """One recorded value. A named tuple rather than a dataclass: a chart reads 100,000 of them, and a
    frozen dataclass took about twice as long to build."""

    id: int
    value: float
    recorded_at: datetime
    part_id: int
    work_order_id: int | None


@contextmanager
def _no_collection_pauses() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while a chart's rows are built. Each 700 new objects
    start a collection that walks the young objects, and every so often all of them: building
    100,000 rows and subgroups spent more time in the collector than in the work (I-MR chart 818 →
    314 ms). Rows, subgroups and the engine's lists hold no reference cycles, so nothing is left
    uncollected; the collector runs again as soon as it is re-enabled."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def measurements_queryset(definition: MeasurementDefinition, filters: Filters = Filters()):
    """The definition's measurements with a value, narrowed by ``filters`` (not ordered, ``last`` left out)."""
    qs = StepMeasurement.objects.filter(definition=definition, value__isnull=False)
    if filters.part_type:
        qs = qs.filter(part__part_type_id=filters.part_type)
    if filters.step:
        qs = qs.filter(step_id=filters.step)
    if filters.work_orders:
        qs = qs.filter(part__work_order_id__in=filters.work_orders)
    if filters.operator:
        qs = qs.filter(recorded_by_id=filters.operator)
    if filters.equipment:
        qs = qs.filter(transition_id__in=EquipmentUsage.objects.filter(equipment_id=filters.equipment)
                       .values("transition_id"))
    if filters.date_from:
        qs = qs.filter(recorded_at__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(recorded_at__lt=filters.date_to)
    return qs


def measurements_count(definition: MeasurementDefinition, filters: Filters = Filters()) -> int:
    """How many values ``measurements`` would return without ``filters.last``."""
    return measurements_queryset(definition, filters).count()


def measurements(definition: MeasurementDefinition, filters: Filters = Filters()) -> list[Row]:
    """The definition's recorded numeric values, oldest first, narrowed by ``filters``."""
    qs = measurements_queryset(definition, filters)
    # The value as float8 and the time as whole microseconds since 1970 (both exact): the database
    # backend's time-zone-aware loader of timestamps runs in Python and took most of the time of a
    # 100,000-row chart (docs/benchmarks.md, "SPC: a characteristic's chart").
    if filters.last:
        qs = qs.filter(pk__in=qs.order_by("-recorded_at", "-pk").values("pk")[:filters.last])
    rows = qs.order_by("recorded_at", "pk").values_list(
        "pk", Cast("value", FloatField()), _Microseconds("recorded_at"), "part_id", "part__work_order_id")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor, _no_collection_pauses():  # the ORM's iteration adds a third again
        cursor.execute(sql, params)
        found = cursor.fetchall()
    epoch, us = _EPOCH, timedelta(microseconds=1)
    with _no_collection_pauses():
        return [Row(pk, v, epoch + us * n, part, wo) for pk, v, n, part, wo in found]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Microseconds(Func):
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


@dataclass(slots=True)
class Subgroup:
    key: int  # the id of its first measurement: names it for exclusions and clicks
    rows: list[Row] = field(default_factory=list)

    @property
    def values(self) -> list[float]:
        return [r.value for r in self.rows]

    @property
    def start(self) -> datetime:
        return self.rows[0].recorded_at


def _shift_of(at: datetime, c: Characteristic) -> tuple:
    local = timezone.localtime(at)
    day_start = local.replace(hour=c.shift_start.hour, minute=c.shift_start.minute, second=0, microsecond=0)
    if local < day_start:
        day_start -= timedelta(days=1)
    return day_start.date(), int((local - day_start).total_seconds() // (c.shift_hours * 3600))


def subgroups(rows: list[Row], c: Characteristic | SPCBaseline, settings: Characteristic | None = None) -> list[Subgroup]:
    """Form subgroups as ``c`` says (a characteristic, or the baseline a chart is drawn against, whose
    time windows and shifts come from ``settings``). Consecutive subgroups are complete ones only
    (the last parts wait for the next); X̄ subgroups with a single value are left out (no range)."""
    with _no_collection_pauses():
        return _subgroups(rows, c, settings or c)


def _subgroups(rows: list[Row], c: Characteristic | SPCBaseline, settings: Characteristic) -> list[Subgroup]:
    if c.subgrouping == Subgrouping.CONSECUTIVE:
        n = max(1, c.subgroup_size)
        if n == 1:  # I-MR: one subgroup per row, the most common chart of the largest series
            return [Subgroup(r.id, [r]) for r in rows]
        whole = len(rows) - len(rows) % n
        return [Subgroup(rows[i].id, rows[i:i + n]) for i in range(0, whole, n)]
    groups: dict[Any, Subgroup] = {}
    for r in rows:
        if c.subgrouping == Subgrouping.WORK_ORDER:
            key = r.work_order_id
        elif c.subgrouping == Subgrouping.TIME_WINDOW:
            key = int(r.recorded_at.timestamp() // (settings.window_minutes * 60))
        else:
            key = _shift_of(r.recorded_at, settings)
        groups.setdefault(key, Subgroup(r.id)).rows.append(r)
    out = sorted(groups.values(), key=lambda g: (g.start, g.key))
    return [g for g in out if len(g.rows) >= 2]


def _spec(c: Characteristic) -> tuple[Decimal | None, Decimal | None]:
    d = c.definition
    lower = c.spec_lower if c.spec_lower is not None else d.lower_limit
    upper = c.spec_upper if c.spec_upper is not None else d.upper_limit
    return lower, upper


def engine_data(groups: list[Subgroup], chart_type: str) -> list:
    return [g.rows[0].value for g in groups] if chart_type == ChartType.IMR else [g.values for g in groups]


def rule_selection(c: Characteristic) -> list[str] | None:
    codes = [r.strip() for r in str(c.rules or "").split(",") if r.strip()]
    return codes or None


@dataclass
class Chart:
    characteristic: Characteristic
    baseline: SPCBaseline | None  # None: trial limits
    groups: list[Subgroup]
    result: dict | None  # the engine's answer; None when there are too few points
    message: str = ""  # why there is no chart

    @property
    def trial(self) -> bool:
        return self.baseline is None


def characteristic_chart(definition: MeasurementDefinition, filters: Filters = Filters(), *,
                         baseline: SPCBaseline | None | str = "active") -> Chart:
    """The chart of ``definition``'s measurements: against ``baseline`` (default: the active one; a
    chart drawn against a baseline uses its chart type and subgrouping), else with trial limits
    computed from the points shown."""
    _check_numeric(definition)
    c = characteristic_for(definition)
    base = active_baseline(definition) if baseline == "active" else baseline
    grouping = base or c
    with _no_collection_pauses():
        return chart_of(c, base, subgroups(measurements(definition, filters), grouping, c))


def chart_of(c: Characteristic, base: SPCBaseline | None, groups: list[Subgroup]) -> Chart:
    """The chart of ``groups`` (formed as ``base`` says, or as ``c`` does when there is no baseline)."""
    chart_type = (base or c).chart_type
    minimum = 3 if chart_type == ChartType.IMR else 2
    if len(groups) < minimum:
        return Chart(c, base, groups, None, f"Not enough data for a chart yet: {len(groups)} "
                     f"{'point' if chart_type == ChartType.IMR else 'subgroup'}(s), {minimum} needed.")
    lower, upper = _spec(c) if c.show_capability else (None, None)
    try:
        result = analyze(chart_type=chart_type, data=engine_data(groups, chart_type),
                         baseline=base.engine_baseline() if base else None, rules=rule_selection(c),
                         lsl=float(lower) if lower is not None else None,
                         usl=float(upper) if upper is not None else None,
                         target=float(c.target) if c.target is not None and c.show_capability else None)
    except StatsInputError as exc:
        return Chart(c, base, groups, None, f"No chart: {exc.field}: {exc.message}.")
    return Chart(c, base, groups, result)

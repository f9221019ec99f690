"""The chart's query reads its rows with a cursor (values as float8, times as microseconds): it must
return exactly what the ORM's rows gave, in the same order, and the same subgroups, on mixed data and
with every filter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_lite.models import EquipmentUsage, StepMeasurement
from traveler.mes_lite.tests.factories import make_equipment
from traveler.spc.models import Characteristic
from traveler.spc.services.characteristics import Filters, Row, measurements, measurements_queryset, subgroups
from traveler.spc.tests.factories import measured

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 5, 0, 0, 123456, tzinfo=UTC)


def reference(definition, filters: Filters = Filters()) -> list[Row]:
    """The rows as the ORM reads them (Decimal values, times through the backend's loader)."""
    qs = measurements_queryset(definition, filters)  # the same filters; the read below is the ORM's
    rows = qs.order_by("recorded_at", "pk").values_list("pk", "value", "recorded_at", "part_id", "part__work_order_id")
    return [Row(pk, float(v), at, part, wo) for pk, v, at, part, wo in rows]


def test_the_rows_and_subgroups_are_those_the_orm_reads(tenant):
    rng = random.Random(5)
    values = [round(rng.gauss(6.0, 0.004), 8) for _ in range(60)]
    first, bore = measured(tenant, values[:25], start=T0, every=timedelta(seconds=37, microseconds=999_999))
    with tenant_context(tenant):
        process = bore.step.process
    second, _ = measured(tenant, values[25:45], process=process, start=T0 + timedelta(hours=5, microseconds=1))
    third, _ = measured(tenant, values[45:], process=process)  # recorded now, in another period
    operator = make_member(tenant, roles=["operator"])
    gauge = make_equipment(tenant)
    with tenant_context(tenant):
        ids = list(StepMeasurement.objects.filter(definition=bore).order_by("pk").values_list("pk", flat=True))
        # Equal times (the id decides), a value removed, extreme decimals, another operator.
        StepMeasurement.objects.filter(pk__in=ids[30:36]).update(recorded_at=T0 + timedelta(hours=1))
        StepMeasurement.objects.filter(pk=ids[3]).update(value=None)
        StepMeasurement.objects.filter(pk=ids[4]).update(value="-0.00000001")
        StepMeasurement.objects.filter(pk=ids[5]).update(value="123456789012.12345678")
        StepMeasurement.objects.filter(pk__in=ids[10:20]).update(recorded_by=operator)
        m = StepMeasurement.objects.get(pk=ids[12])
        EquipmentUsage.objects.create(equipment=gauge, step=m.step, part=m.part, transition=m.transition,
                                      start_time=m.recorded_at)
        step = bore.step
        cases = [
            Filters(), Filters(part_type=process.part_type_id), Filters(step=step.pk), Filters(step=step.pk + 999),
            Filters(work_orders=(first.pk, third.pk)), Filters(operator=operator.pk), Filters(equipment=gauge.pk),
            Filters(date_from=T0 + timedelta(minutes=5), date_to=T0 + timedelta(hours=5, microseconds=1)),
            Filters(work_orders=(second.pk,), date_to=T0 + timedelta(hours=6), step=step.pk),
        ]
        for f in cases:
            got, want = measurements(bore, f), reference(bore, f)
            assert got == want, f
            assert [type(r.value) for r in got] == [float] * len(got)
            assert [r.recorded_at.utcoffset() for r in got] == [timedelta(0)] * len(got)
        rows = measurements(bore)
        assert len(rows) == 59 and len({r.recorded_at for r in rows}) < 59  # the data has ties
        assert rows[3].value == -0.00000001 and 123456789012.12345 < rows[4].value < 123456789012.1235
        for settings in ({"chart_type": "xbar_r", "subgroup_size": 5}, {"chart_type": "xbar_r", "subgrouping": "work_order"},
                         {"chart_type": "xbar_r", "subgrouping": "time_window", "window_minutes": 15},
                         {"chart_type": "xbar_r", "subgrouping": "shift", "shift_start": time(6, 0), "shift_hours": 8},
                         {"chart_type": "imr", "subgroup_size": 1}):
            c = Characteristic(definition=bore, **{"subgrouping": "consecutive", **settings})
            new, old = subgroups(rows, c), subgroups(reference(bore), c)
            assert len(new) >= 2
            assert [(g.key, g.rows, g.start) for g in new] == [(g.key, g.rows, g.start) for g in old]

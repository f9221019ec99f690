"""The demo's injector line and the large-data-set command."""

import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from traveler.core.models import History
from traveler.core.services.tenants import tenant_create
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company
from traveler.mes_lite import demo
from traveler.mes_lite.choices import PartStatus, ProcessStatus
from traveler.mes_lite.models import (
    Equipment,
    MeasurementDefinition,
    Order,
    Part,
    PartType,
    Process,
    StepMeasurement,
    WorkOrder,
)
from traveler.mes_lite.services.routing import route_steps


def counts():
    return (PartType.objects.count(), Process.objects.count(), Equipment.objects.count(), Order.objects.count(),
            WorkOrder.objects.count(), Part.objects.count(), StepMeasurement.objects.count(), History.objects.count())


@pytest.fixture
def customers(tenant):
    return [make_company(tenant, name, kind="customer") for name in ("Northwind Diesel", "Bluewater Marine")]


@pytest.fixture
def acme(db):
    """The demo tenant itself (its slug seeds the demo's random values), with the core demo's customers."""
    tenant = tenant_create(name="Acme Injector Works", slug="acme")
    for name in ("Northwind Diesel", "Bluewater Marine", "Ridgeline Rail", "Not A Customer"):
        make_company(tenant, name, kind="supplier" if name.startswith("Not") else "customer")
    return tenant


def test_demo_loads_the_injector_line_once(acme):
    tenant = acme
    with tenant_context(tenant):
        demo.load_mes_demo(tenant)
        process = Process.objects.get(name=demo.PROCESS_NAME)
        assert process.status == ProcessStatus.RELEASED and process.part_type.part_number == "CRI-2200"
        assert [s.name for s in route_steps(process)] == [name for name, _, _ in demo.ROUTE]
        bore = MeasurementDefinition.objects.get(step__process=process, label="Bore Ø")
        assert (bore.nominal, bore.lower_tol, bore.upper_tol, bore.unit) == (
            Decimal("4.000"), Decimal("0.004"), Decimal("0.004"), "mm")
        assert [e.serial_number for e in Equipment.objects.all() if e.calibration_overdue()] == ["AG-0398"]

        by_status = dict(Part.objects.values_list("status").annotate(n=Count("pk")).order_by())
        assert sum(by_status.values()) == sum(q for *_, wos in demo.DEMO_ORDERS for _, q, _ in wos)
        assert by_status[PartStatus.COMPLETED] >= 24 and by_status[PartStatus.IN_PROCESS] > 100
        assert by_status[PartStatus.PENDING] >= 30  # WO-1006 is released but not started
        assert 1 <= by_status[PartStatus.QUARANTINED] <= 20
        assert by_status[PartStatus.ON_HOLD] == 2 and by_status[PartStatus.SCRAPPED] >= 2
        for part in Part.objects.filter(status=PartStatus.QUARANTINED):
            assert StepMeasurement.objects.filter(part=part, in_spec=False).exists()
        assert StepMeasurement.objects.filter(in_spec=False).count() < StepMeasurement.objects.count() / 100
        assert Order.objects.get(number="SO-1001").status == "completed"
        assert WorkOrder.objects.get(number="WO-1001").status == "completed"
        assert Order.objects.get(number="SO-1005").status == "draft"
        assert {o.company.name for o in Order.objects.all()} == {"Northwind Diesel", "Bluewater Marine", "Ridgeline Rail"}

        before = counts()
        demo.load_mes_demo(tenant)
        assert counts() == before  # nothing written, not even history


def test_generated_readings_are_in_spec_unless_asked_otherwise(tenant):
    with tenant_context(tenant):
        line = demo.injector_line()
        gens = demo.step_generators(line.steps)
        definitions = {d.pk: d for d in MeasurementDefinition.objects.filter(step__process=line.process)}
        rng = random.Random(7)
        for step in line.steps:
            for _ in range(50):
                good = demo.readings(gens[step.pk], rng)
                assert all(definitions[r["definition"]].in_spec(_value(r["value"])) for r in good)
                bad = demo.readings(gens[step.pk], rng, out_of_spec=True)
                assert sum(not definitions[r["definition"]].in_spec(_value(r["value"])) for r in bad) == 1


def _value(raw: str):
    return raw == "pass" if raw in ("pass", "fail") else Decimal(raw)


def test_mes_generate_creates_orders_of_parts_spread_over_the_route(tenant, customers, monkeypatch):
    monkeypatch.setattr(demo, "MAX_WORK_ORDER", 50)
    call_command("mes_generate", tenant=tenant.slug, parts=120, orders=2)
    call_command("mes_generate", "--tenant", tenant.slug, "--parts", "10")
    with tenant_context(tenant):
        orders = list(Order.objects.order_by("number"))
        assert [o.number for o in orders] == ["GEN-000001", "GEN-000002", "GEN-000003"]
        assert [sorted(wo.quantity for wo in o.work_orders.all()) for o in orders] == [[10, 50], [10, 50], [10]]
        assert Part.objects.count() == 130
        assert Part.objects.values("current_step").distinct().count() >= 5
        assert Part.objects.filter(status=PartStatus.COMPLETED).exists()
        assert StepMeasurement.objects.count() > 130


@pytest.mark.parametrize("args,message", [
    (["--tenant", "no-such-tenant", "--parts", "10"], "No tenant with slug 'no-such-tenant'"),
    (["--parts", "0"], "--parts must be between 1"),
    (["--parts", "5", "--orders", "6"], "--orders must be between 1 and the number of parts"),
    (["--parts", "five"], "invalid int value"),
    ([], "the following arguments are required: --parts"),
])
def test_mes_generate_refuses_bad_arguments(tenant, args, message):
    if "--tenant" not in args:
        args = ["--tenant", tenant.slug, *args]
    with pytest.raises(CommandError, match=message):
        call_command("mes_generate", *args)
    with tenant_context(tenant):
        assert not Part.objects.exists()

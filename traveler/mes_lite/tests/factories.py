"""MES Lite test factories: real services, unique names, no fixed ids."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, record_factory
from traveler.mes_lite.models import (
    Equipment,
    EquipmentType,
    MeasurementDefinition,
    Order,
    Part,
    PartType,
    Process,
    Step,
    StepMeasurement,
    StepTransitionLog,
    WorkOrder,
)
from traveler.mes_lite.services import orders as order_services
from traveler.mes_lite.services import routing
from traveler.mes_lite.services.equipment import equipment_create
from traveler.mes_lite.services.parts import part_advance

_n = itertools.count(1)

# Steps of a small route: (name, [measurement definitions]).
DEFAULT_ROUTE = [
    ("Machine body", [{"label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.010",
                       "lower_tol": "0.010"}]),
    ("Leak test", [{"label": "Leak rate", "unit": "mbar·l/s", "nominal": "0", "upper_tol": "0.5", "lower_tol": "0"},
                   {"label": "Visual", "kind": "pass_fail"},
                   {"label": "Note length", "unit": "mm", "nominal": "1", "upper_tol": "1", "lower_tol": "1",
                    "required": False}]),
    ("Final inspection", []),
]


def make_part_type(tenant, **kw) -> PartType:
    with tenant_context(tenant):
        return routing.part_type_create(data={"part_number": f"PN-{next(_n)}-{uuid.uuid4().hex[:4]}",
                                              "name": "Injector body", **kw})


def make_process(tenant, *, part_type=None, route=None, release=True) -> Process:
    part_type = part_type or make_part_type(tenant)
    with tenant_context(tenant):
        process = routing.process_create(data={"part_type": part_type, "name": f"Route {next(_n)}"})
        for name, defs in (route or DEFAULT_ROUTE):
            step = routing.step_add(process=process, name=name)
            for d in defs:
                routing.measurement_definition_add(step=step, data=dict(d))
        if release:
            process = routing.process_release(process=process)
    return process


def make_order(tenant, *, company=None, **kw) -> Order:
    company = company or make_company(tenant)
    with tenant_context(tenant):
        return order_services.order_create(data={"number": f"SO-{next(_n)}-{uuid.uuid4().hex[:4]}",
                                                 "company": company, **kw})


def make_work_order(tenant, *, process=None, order=None, quantity=5, release=True, parts=True, pattern=None) -> WorkOrder:
    process = process or make_process(tenant)
    with tenant_context(tenant):
        wo = order_services.work_order_create(data={
            "number": f"WO-{next(_n)}-{uuid.uuid4().hex[:4]}", "process": process, "quantity": quantity, "order": order})
        if release:
            wo = order_services.work_order_release(work_order=wo)
            if parts:
                order_services.work_order_create_parts(
                    work_order=wo, pattern=pattern or f"T{uuid.uuid4().hex[:6]}-{{seq:04}}")
    return wo


def make_equipment(tenant, *, overdue=False, **kw) -> Equipment:
    with tenant_context(tenant):
        etype = EquipmentType.objects.create(name=f"Gauge type {next(_n)}", calibration_interval_days=365)
        last = date.today() - timedelta(days=400 if overdue else 30)
        return equipment_create(data={"equipment_type": etype, "name": f"Bore gauge {next(_n)}",
                                      "serial_number": f"EQ-{uuid.uuid4().hex[:8]}", "last_calibration": last, **kw})


def good_readings(step: Step) -> list[dict]:
    """In-spec values for every definition of ``step``."""
    out = []
    for d in MeasurementDefinition.objects.filter(step=step):
        out.append({"definition": d.pk, "value": "pass" if d.kind == "pass_fail" else str(d.nominal)})
    return out


@record_factory(PartType)
def _pt(tenant):
    return make_part_type(tenant)


@record_factory(Process)
def _process(tenant):
    return make_process(tenant)


@record_factory(Order)
def _order(tenant):
    return make_order(tenant)


@record_factory(WorkOrder)
def _wo(tenant):
    return make_work_order(tenant, parts=False)


@record_factory(Equipment)
def _eq(tenant):
    return make_equipment(tenant)


@record_factory(EquipmentType)
def _etype(tenant):
    with tenant_context(tenant):
        return EquipmentType.objects.create(name=f"Type {next(_n)}-{uuid.uuid4().hex[:4]}")


def advanced_part(tenant) -> Part:
    """A part of a fresh work order, advanced past its first step."""
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        part = Part.objects.get(work_order=wo)
        step = routing.route_steps(wo.process)[0]
        part_advance(part=part, step=step.pk, measurements=good_readings(step))
        part.refresh_from_db()
    return part


@record_factory(Step)
def _step(tenant):
    process = make_process(tenant, release=False)
    with tenant_context(tenant):
        return Step.objects.filter(process=process).order_by("sequence").first()


@record_factory(MeasurementDefinition)
def _definition(tenant):
    process = make_process(tenant, release=False)
    with tenant_context(tenant):
        return MeasurementDefinition.objects.filter(step__process=process).order_by("pk").first()


@record_factory(Part)
def _part(tenant):
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        return Part.objects.get(work_order=wo)


@record_factory(StepTransitionLog)
def _transition(tenant):
    part = advanced_part(tenant)
    with tenant_context(tenant):
        return StepTransitionLog.objects.get(part=part)


@record_factory(StepMeasurement)
def _measurement(tenant):
    part = advanced_part(tenant)
    with tenant_context(tenant):
        return StepMeasurement.objects.filter(part=part).first()

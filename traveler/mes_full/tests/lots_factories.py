"""Factories of lot acceptance and rollbacks: real services, unique names, no fixed ids."""

from __future__ import annotations

import uuid

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_full.models import LotInspection, StepRollback, Z14SwitchingState
from traveler.mes_full.services.lots import lot_inspection_open
from traveler.mes_full.services.rollbacks import rollback_request
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_part_type, make_work_order


def make_supplier_lot(tenant, *, part_type=None, supplier: str | None = None, lot_size: int = 500, aql="1.0",
                      level="II", actor=None) -> LotInspection:
    """A lot received from a supplier, its plan drawn (no parts in the traveler)."""
    part_type = part_type or make_part_type(tenant)
    with tenant_context(tenant, actor=actor):
        return lot_inspection_open(part_type=part_type, supplier=supplier or f"Supplier {uuid.uuid4().hex[:6]}",
                                   supplier_lot_number=f"SL-{uuid.uuid4().hex[:6]}", lot_size=lot_size, aql=aql,
                                   level=level)


def advanced_part(tenant, *, steps: int = 1, quantity: int = 1):
    """A work order whose first part passed ``steps`` steps with in-spec measurements."""
    wo = make_work_order(tenant, quantity=quantity)
    with tenant_context(tenant):
        part = Part.objects.filter(work_order=wo).order_by("sequence").first()
        route = route_steps(wo.process)
        for step in route[:steps]:
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        part.refresh_from_db()
    return wo, part, route


def make_rollback(tenant, *, requester=None) -> StepRollback:
    """A part at its third step, asked back to its first (an approver exists)."""
    make_member(tenant, roles=["production_manager"])
    requester = requester or make_member(tenant, roles=["qa_manager"])
    _, part, route = advanced_part(tenant, steps=2)
    with tenant_context(tenant, actor=requester):
        return rollback_request(part=part, to_step=route[0], reason="Bore measured with the wrong gauge",
                                user=requester)


def register(record_factory) -> None:
    record_factory(LotInspection)(lambda tenant: make_supplier_lot(tenant))
    record_factory(Z14SwitchingState)(lambda tenant: make_supplier_lot(tenant).switching_state)
    record_factory(StepRollback)(lambda tenant: make_rollback(tenant))

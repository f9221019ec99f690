"""Step control test factories: real services, unique names, no fixed ids."""

from __future__ import annotations

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member, record_factory
from traveler.mes_full.choices import BlockKind, FPIScope
from traveler.mes_full.models import FPIRecord, FPIRequirement, StepOverride
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order

# First-piece inspection and overrides -------------------------------------------------------------


def fpi_line(tenant, *, scope=FPIScope.WORK_ORDER, quantity=3):
    """A work order whose first step needs a first-piece inspection; its step and parts in order."""
    from traveler.mes_full.services.fpi import requirement_set

    wo = make_work_order(tenant, quantity=quantity)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        requirement_set(step=step, scope=scope)
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
    return wo, step, parts


def make_fpi_record(tenant) -> FPIRecord:
    from traveler.mes_full.services.fpi import fpi_designate

    _, _, parts = fpi_line(tenant, quantity=1)
    with tenant_context(tenant, actor=make_member(tenant, roles=["operator"])):
        return fpi_designate(part=parts[0])


def make_override(tenant, *, kind=BlockKind.MISSING_INSPECTION) -> StepOverride:
    from traveler.mes_full.services.overrides import override_request

    wo = make_work_order(tenant, quantity=1)
    operator = make_member(tenant, roles=["operator"])
    with tenant_context(tenant, actor=operator):
        part = Part.objects.get(work_order=wo)
        return override_request(part=part, block_kind=kind, reason="Inspector away", user=operator)


@record_factory(FPIRequirement)
def _fpi_requirement(tenant):
    _, step, _ = fpi_line(tenant, quantity=1)
    with tenant_context(tenant):
        return FPIRequirement.objects.get(step=step)


@record_factory(FPIRecord)
def _fpi_record(tenant):
    return make_fpi_record(tenant)


@record_factory(StepOverride)
def _override(tenant):
    return make_override(tenant)

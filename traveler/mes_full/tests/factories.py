"""Step control's record factories (for the generic API contract tests) and helpers."""

from __future__ import annotations

from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_document, make_member, make_revision, record_factory
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.models import DocumentAcknowledgement, StepExecution, StepInspection, StepRequirement
from traveler.mes_full.services.requirements import document_acknowledge, requirement_create
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import advanced_part, make_work_order


@record_factory(StepRequirement)
def _requirement(tenant):
    wo = make_work_order(tenant, quantity=1, parts=False)
    with tenant_context(tenant):
        return requirement_create(data={"step": route_steps(wo.process)[0], "kind": RequirementKind.INSPECTION})


@record_factory(StepInspection)
def _inspection(tenant):
    wo = make_work_order(tenant, quantity=1)
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=inspector):
        part = Part.objects.get(work_order=wo)
        return StepInspection.objects.create(part=part, step=part.current_step, passed=True, inspector=inspector,
                                             inspected_at=timezone.now())


@record_factory(StepExecution)
def _execution(tenant):
    part = advanced_part(tenant)
    with tenant_context(tenant):
        return StepExecution.objects.filter(part=part).latest("pk")


@record_factory(DocumentAcknowledgement)
def _acknowledgement(tenant):
    doc = make_document(tenant)
    make_revision(tenant, doc, release=True)
    operator = make_member(tenant, roles=["operator"])
    with tenant_context(tenant, actor=operator):
        return document_acknowledge(document=doc, user=operator)


# Training and calibration
# Lot acceptance and rollbacks.
from traveler.mes_full.tests import lots_factories  # noqa: E402
from traveler.mes_full.tests.factories_training import *  # noqa: E402,F401,F403

lots_factories.register(record_factory)

# First-piece inspection and overrides.
from traveler.mes_full.tests.fpi_factories import *  # noqa: E402,F401,F403

# Sampling.
from traveler.mes_full.tests.sampling_factories import *  # noqa: E402,F401,F403

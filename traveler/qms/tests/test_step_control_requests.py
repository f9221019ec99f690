"""Quality answers step control's requests for a nonconformance: one per request, however often the
event is delivered, holding the parts it names."""

import pytest

from traveler.core.eventbus import Delivered
from traveler.core.models import OutboxEvent
from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.services.requirements import inspection_record, requirement_create
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order
from traveler.qms.handlers import answer_nonconformance_request
from traveler.qms.models import QuarantineDisposition

pytestmark = pytest.mark.django_db


def test_a_failed_inspection_opens_one_nonconformance(tenant):
    inspector = make_member(tenant, roles=["qa_inspector"])
    wo = make_work_order(tenant, quantity=2)
    with tenant_context(tenant, actor=inspector):
        step = route_steps(wo.process)[0]
        requirement_create(data={"step": step, "kind": RequirementKind.INSPECTION})
        part = Part.objects.filter(work_order=wo).order_by("sequence").first()
        inspection_record(part=part, passed=False, user=inspector, password=PASSWORD, note="Crack at the flange")
    run_pending()
    with tenant_context(tenant):
        ncr = QuarantineDisposition.objects.get(title__contains="Crack at the flange")
        assert [p.pk for p in ncr.parts.all()] == [part.pk] and ncr.step_found_id == step.pk
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD  # the nonconformance's containment
        event = OutboxEvent.objects.get(name="mes_full.nonconformance.requested")
        answer_nonconformance_request(Delivered(event.pk, event.name, event.payload, tenant.pk, event.actor_id))
        assert QuarantineDisposition.objects.filter(title__contains="Crack at the flange").count() == 1

"""Rollbacks: nothing moves without the approval (and never by the requester's own), the history keeps
the original passages and the rollback, the measurements of the undone passages stay and are marked
superseded, a rejected approval leaves the part where it is, and the part's traveler page shows it."""

import pytest

from traveler.core.errors import Conflict, InvalidInput, NotFound
from traveler.core.models import ApprovalRequest
from traveler.core.queue import run_pending
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.models.rollbacks import RollbackStatus
from traveler.mes_full.services import rollbacks as svc
from traveler.mes_full.tests.lots_factories import advanced_part
from traveler.mes_lite.choices import PartStatus, TransitionAction
from traveler.mes_lite.models import Part, StepMeasurement, StepTransitionLog
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.tests.factories import good_readings

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant):
    return {"requester": make_member(tenant, roles=["qa_manager"]),
            "approver": make_member(tenant, roles=["production_manager"])}


def _request(tenant, part, to_step, user, reason="Leak test rig out of calibration"):
    with tenant_context(tenant, actor=user):
        return svc.rollback_request(part=part, to_step=to_step, reason=reason, user=user)


def _respond(tenant, rollback, user, decision="approved", comment=""):
    with tenant_context(tenant, actor=user):
        req = ApprovalRequest.objects.get(pk=rollback.approval_request_id)
        approval_respond(request=req, user=user, password=PASSWORD, decision=decision, comment=comment)
    run_pending()
    with tenant_context(tenant):
        rollback.refresh_from_db()
    return rollback


def test_a_rollback_waits_for_its_approval_then_keeps_both_passages(tenant, people):
    _, part, route = advanced_part(tenant, steps=2)  # passed Machine body and Leak test: at Final inspection
    with tenant_context(tenant):
        before = list(StepTransitionLog.objects.filter(part=part).order_by("pk").values_list("pk", "action"))
        measured = set(StepMeasurement.objects.filter(part=part).values_list("pk", flat=True))
    rollback = _request(tenant, part, route[1], people["requester"])
    assert rollback.status == RollbackStatus.REQUESTED and rollback.from_step_id == route[2].pk
    with tenant_context(tenant):
        part.refresh_from_db()
        assert part.current_step_id == route[2].pk  # nothing moved yet
        req = ApprovalRequest.objects.get(pk=rollback.approval_request_id)
        assert req.template_type == "step_rollback" and req.status == "pending"
    # The requester cannot approve their own rollback (no place of theirs among the approvers).
    with tenant_context(tenant, actor=people["requester"]), pytest.raises(NotFound, match="not an approver"):
        approval_respond(request=req, user=people["requester"], password=PASSWORD, decision="approved")
    rollback = _respond(tenant, rollback, people["approver"])
    assert rollback.status == RollbackStatus.COMPLETED and rollback.completed_at is not None
    with tenant_context(tenant):
        part.refresh_from_db()
        assert (part.current_step_id, part.status) == (route[1].pk, PartStatus.IN_PROCESS)
        after = list(StepTransitionLog.objects.filter(part=part).order_by("pk").values_list("pk", "action"))
        # The original passages are all still there, and the rollback's move after them.
        assert after[:len(before)] == before and len(after) == len(before) + 1
        move = StepTransitionLog.objects.get(pk=after[-1][0])
        assert (move.action, move.from_step_id, move.to_step_id) == (TransitionAction.REWORK, route[2].pk, route[1].pk)
        assert move.note == f"Rollback #{rollback.pk}: Leak test rig out of calibration"
        assert rollback.transition_id == move.pk
        # Superseded: the passage out of Leak test (the step returned to) only, not Machine body's.
        leak_pass = StepTransitionLog.objects.get(part=part, from_step=route[1], action=TransitionAction.ADVANCE)
        assert rollback.superseded_transition_ids == [leak_pass.pk]
        superseded = svc.superseded_measurement_ids([part.pk])
        leak = set(StepMeasurement.objects.filter(transition=leak_pass).values_list("pk", flat=True))
        assert superseded == leak and len(leak) == 3  # leak rate, visual, note length
        assert set(StepMeasurement.objects.filter(part=part).values_list("pk", flat=True)) == measured  # kept
        first = StepMeasurement.objects.filter(part=part, step=route[0]).get()
        assert not svc.measurement_superseded(first)
        assert svc.measurement_superseded(StepMeasurement.objects.get(pk=min(leak)))
        # Measured again at Leak test: the new ones count, the old ones stay superseded.
        part_advance(part=part, step=route[1].pk, measurements=good_readings(route[1]))
        assert svc.superseded_measurement_ids([part.pk]) == leak


def test_a_second_rollback_supersedes_only_the_passages_since_the_part_came_back(tenant, people):
    _, part, route = advanced_part(tenant, steps=2)
    rb = _respond(tenant, _request(tenant, part, route[0], people["requester"]), people["approver"])
    with tenant_context(tenant):
        first_passes = list(StepTransitionLog.objects.filter(part=part, action=TransitionAction.ADVANCE)
                            .order_by("pk").values_list("pk", flat=True))
        assert rb.superseded_transition_ids == first_passes
        part.refresh_from_db()
        part_advance(part=part, step=route[0].pk, measurements=good_readings(route[0]))
        again = StepTransitionLog.objects.filter(part=part, action=TransitionAction.ADVANCE).order_by("-pk").first()
        part.refresh_from_db()
    rb2 = _respond(tenant, _request(tenant, part, route[0], people["requester"], reason="Wrong bore"),
                   people["approver"])
    assert rb2.superseded_transition_ids == [again.pk]


def test_a_rejected_approval_leaves_the_part_where_it_is(tenant, people):
    _, part, route = advanced_part(tenant, steps=1)
    rb = _request(tenant, part, route[0], people["requester"])
    rb = _respond(tenant, rb, people["approver"], decision="rejected", comment="Measure it again here instead")
    assert rb.status == RollbackStatus.REJECTED and "Measure it again here instead" in rb.approval_notes
    assert rb.superseded_transition_ids == [] and rb.transition_id is None
    with tenant_context(tenant):
        part.refresh_from_db()
        assert part.current_step_id == route[1].pk
        assert not StepTransitionLog.objects.filter(part=part, action=TransitionAction.REWORK).exists()


def test_what_may_be_asked(tenant, people):
    _, part, route = advanced_part(tenant, steps=1)
    with pytest.raises(InvalidInput) as e:
        _request(tenant, part, route[1], people["requester"])  # the step it is at: not earlier
    assert e.value.fields == {"to_step": ["not an earlier step"]}
    with pytest.raises(InvalidInput) as e:
        _request(tenant, part, route[2], people["requester"])
    assert e.value.fields == {"to_step": ["not an earlier step"]}
    with pytest.raises(InvalidInput) as e:
        _request(tenant, part, route[0], people["requester"], reason="  ")
    assert e.value.fields == {"reason": ["required"]}
    _request(tenant, part, route[0], people["requester"])
    with pytest.raises(Conflict, match="already has a rollback"):
        _request(tenant, part, route[0], people["requester"])
    with tenant_context(tenant):
        assert [s.pk for s in svc.rollback_targets(part=part)] == [route[0].pk]


def test_a_part_that_moved_meanwhile_is_not_rolled_back(tenant, people):
    _, part, route = advanced_part(tenant, steps=1)
    rb = _request(tenant, part, route[0], people["requester"])
    with tenant_context(tenant):
        part_advance(part=part, step=route[1].pk, measurements=good_readings(route[1]))
    rb = _respond(tenant, rb, people["approver"])
    assert rb.status == RollbackStatus.REJECTED and "no longer at the step" in rb.approval_notes
    with tenant_context(tenant):
        assert Part.objects.get(pk=part.pk).current_step_id == route[2].pk

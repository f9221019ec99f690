"""Training as a hard gate: an operator without a current record of each training a step requires is
refused, with the training and its expiry date; the day of the guard's context decides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from traveler.core.models import ApprovalRequest, Role
from traveler.core.queue import run_pending
from traveler.core.services.approval_templates import approval_template_create
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import BlockKind, TrainingState, TrainingStatus
from traveler.mes_full.models import StepRequirement, TrainingRecord
from traveler.mes_full.services.requirements import requirements_guard
from traveler.mes_full.services.training import training_matrix, training_standings
from traveler.mes_full.tests.factories_training import make_training_record, make_training_type, require_training
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import Blocked, part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

TODAY = date.today()
DAY = TODAY + timedelta(days=100)  # the guard's "today" in most tests: records are dated around it


@pytest.fixture
def station(tenant):
    """A released work order's first part at a step that requires one training."""
    wo = make_work_order(tenant, quantity=2)
    operator = make_member(tenant, roles=["operator"], full_name="Olga Operator")
    torque = make_training_type(tenant, name="Torque wrench use", validity_days=365)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        part = Part.objects.filter(work_order=wo).order_by("sequence").first()
    require_training(tenant, step, torque)
    return {"wo": wo, "step": step, "part": part, "operator": operator, "torque": torque}


def _refusals(tenant, s, *, today=DAY, operator=None):
    with tenant_context(tenant):
        return requirements_guard(step=s["step"], parts=[s["part"]], equipment=[], measured=[],
                                  operator=operator or s["operator"], today=today)


def test_a_record_that_expires_today_still_counts_today(tenant, station):
    make_training_record(tenant, user=station["operator"], training_type=station["torque"], expires_on=DAY)
    assert _refusals(tenant, station) == []


def test_a_record_that_expired_yesterday_refuses_with_the_training_and_the_date(tenant, station):
    make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                         expires_on=DAY - timedelta(days=1))
    [refusal] = _refusals(tenant, station)
    assert refusal.reason == f"Torque wrench use expired on {DAY - timedelta(days=1):%Y-%m-%d}: ask your supervisor."
    assert (refusal.kind, refusal.overridable) == (BlockKind.TRAINING_EXPIRED, True)


def test_a_record_expiring_in_30_days_counts_and_is_expiring_soon(tenant, station):
    record = make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                                  expires_on=DAY + timedelta(days=30))
    assert _refusals(tenant, station) == []
    with tenant_context(tenant):
        standing = training_standings(user_ids=[station["operator"].pk], type_ids=[station["torque"].pk], today=DAY)
        assert standing[(station["operator"].pk, station["torque"].pk)].state == TrainingState.EXPIRING
        later = training_standings(user_ids=[station["operator"].pk], type_ids=[station["torque"].pk],
                                   today=DAY - timedelta(days=1))
        assert later[(station["operator"].pk, station["torque"].pk)].state == TrainingState.CURRENT
    assert record.expires_on == DAY + timedelta(days=30)


def test_expiry_follows_from_the_type_unless_given(tenant, station):
    record = make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                                  completed_on=TODAY - timedelta(days=3))
    assert record.expires_on == TODAY - timedelta(days=3) + timedelta(days=365)
    forever = make_training_type(tenant, validity_days=None)
    assert make_training_record(tenant, user=station["operator"], training_type=forever).expires_on is None


def test_an_operator_without_a_record_is_refused_at_the_station_with_the_reason(tenant, station):
    someone_else = make_member(tenant, roles=["operator"])
    make_training_record(tenant, user=someone_else, training_type=station["torque"], expires_on=DAY + timedelta(days=90))
    with tenant_context(tenant, actor=station["operator"]), pytest.raises(Blocked) as blocked:
        part_advance(part=station["part"], step=station["step"].pk, measurements=good_readings(station["step"]))
    [refusal] = [r for r in blocked.value.refusals if r.kind == BlockKind.TRAINING_EXPIRED]
    assert refusal.reason == "Torque wrench use: Olga Operator has no training record: ask your supervisor."
    with tenant_context(tenant):
        assert Part.objects.get(pk=station["part"].pk).current_step_id == station["step"].pk


def test_a_trained_operator_advances(tenant, station):
    make_training_record(tenant, user=station["operator"], training_type=station["torque"])
    with tenant_context(tenant, actor=station["operator"]):
        result = part_advance(part=station["part"], step=station["step"].pk,
                              measurements=good_readings(station["step"]))
    assert result["result"] == "advanced"


def test_a_renewal_counts_after_the_old_record_expired(tenant, station):
    make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                         completed_on=TODAY - timedelta(days=400), expires_on=TODAY - timedelta(days=35))
    make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                         expires_on=DAY + timedelta(days=200))
    assert _refusals(tenant, station) == []


def test_a_withdrawn_record_does_not_count(tenant, station):
    from traveler.mes_full.services.training import training_record_archive

    record = make_training_record(tenant, user=station["operator"], training_type=station["torque"])
    with tenant_context(tenant):
        training_record_archive(trainingrecord=record, reason="issued in error")
    [refusal] = _refusals(tenant, station, today=TODAY)
    assert "has no training record" in refusal.reason


def test_every_training_of_the_step_is_checked_in_one_query(tenant, station):
    second = make_training_type(tenant, name="Visual inspection", validity_days=None)
    require_training(tenant, station["step"], second)
    make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                         expires_on=DAY - timedelta(days=2))
    from traveler.mes_full.services.requirements import EVALUATORS

    with tenant_context(tenant):
        requirements = list(StepRequirement.objects.filter(step=station["step"], kind="training")
                            .select_related("training_type"))
        with CaptureQueriesContext(connection) as queries:
            refusals = EVALUATORS["training"](requirements, step=station["step"], parts=[station["part"]],
                                              operator=station["operator"], today=DAY)
    assert len(queries) == 1
    assert [r.reason for r in refusals] == [
        f"Torque wrench use expired on {DAY - timedelta(days=2):%Y-%m-%d}: ask your supervisor.",
        "Visual inspection: Olga Operator has no training record: ask your supervisor."]


@pytest.fixture
def certificate_approvals(tenant):
    """A training certificate approval template: one QA Manager approves."""
    qa = make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")
    with tenant_context(tenant):
        approval_template_create(data={"name": "Training certificate", "template_type": "training_certificate"},
                                 approvers=[{"user": qa}])
    return qa


def _decide(tenant, user, record, decision):
    with tenant_context(tenant, actor=user):
        request = ApprovalRequest.objects.get(record_id=str(record.pk), template_type="training_certificate")
        approval_respond(request=request, user=user, password=PASSWORD, decision=decision, comment="checked")
    with tenant_context(tenant):
        run_pending()
        return TrainingRecord.objects.get(pk=record.pk)


def test_a_record_awaiting_approval_is_not_current_until_approved(tenant, station, certificate_approvals):
    manager = make_member(tenant, roles=["production_manager"])
    with tenant_context(tenant, actor=manager):
        record = make_training_record(tenant, user=station["operator"], training_type=station["torque"])
    assert record.status == TrainingStatus.PENDING_APPROVAL
    [refusal] = _refusals(tenant, station, today=TODAY)
    assert refusal.reason == (f"Torque wrench use: the training record of {record.completed_on:%Y-%m-%d} awaits its "
                              "approval and does not count yet: ask your supervisor.")
    assert _decide(tenant, certificate_approvals, record, "approved").status == TrainingStatus.ACTIVE
    assert _refusals(tenant, station, today=TODAY) == []


def test_a_rejected_certificate_never_counts(tenant, station, certificate_approvals):
    manager = make_member(tenant, roles=["production_manager"])
    with tenant_context(tenant, actor=manager):
        record = make_training_record(tenant, user=station["operator"], training_type=station["torque"])
    assert _decide(tenant, certificate_approvals, record, "rejected").status == TrainingStatus.REJECTED
    [refusal] = _refusals(tenant, station, today=TODAY)
    assert "has no training record" in refusal.reason


def test_the_matrix_shows_each_persons_standing(tenant, station):
    ok, soon, old, none = (make_member(tenant, roles=["operator"], full_name=f"{n} Person")
                           for n in ("Ann", "Ben", "Cid", "Dee"))
    t = station["torque"]
    make_training_record(tenant, user=ok, training_type=t, expires_on=DAY + timedelta(days=31))
    make_training_record(tenant, user=soon, training_type=t, expires_on=DAY + timedelta(days=30))
    make_training_record(tenant, user=old, training_type=t, expires_on=DAY - timedelta(days=1))
    with tenant_context(tenant):
        matrix = training_matrix(today=DAY, people=[ok, soon, old, none], types=[t])
    states = [(row["user"].full_name, row["cells"][0]["standing"].state) for row in matrix["rows"]]
    assert states == [("Ann Person", "current"), ("Ben Person", "expiring"), ("Cid Person", "expired"),
                      ("Dee Person", "missing")]


def test_records_are_refused_with_the_field_named(tenant, station):
    from traveler.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                             completed_on=TODAY + timedelta(days=1))
    assert e.value.fields == {"completed_on": ["in the future"]}
    with pytest.raises(InvalidInput) as e:
        make_training_record(tenant, user=station["operator"], training_type=station["torque"],
                             completed_on=TODAY, expires_on=TODAY - timedelta(days=1))
    assert e.value.fields == {"expires_on": ["before completed_on"]}
    with tenant_context(tenant):
        assert Role.objects.filter(code="operator").exists()
        assert TrainingRecord.objects.count() == 0

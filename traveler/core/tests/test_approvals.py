"""The approval workflow, through its services, on the real database (history triggers on)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, NotFound
from traveler.core.models import ApprovalRequest, ApprovalResponse, Company, History, Notification, OutboxEvent
from traveler.core.models.approvals import Flow, Order
from traveler.core.services.approval_templates import approval_template_create
from traveler.core.services.approvals import (
    approval_delegate,
    approval_request_cancel,
    approval_request_create,
    approval_request_set_approvers,
    approval_request_start,
    approval_respond,
    approvals_escalate,
    approvals_for_user,
)
from traveler.core.services.signatures import manifestations
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.core.tests.registering import approvable


@pytest.fixture
def approvable_company():
    with approvable(Company, permission="core.change_company"):
        yield


@pytest.fixture
def people(tenant):
    return {
        "requester": make_member(tenant, roles=["engineering"], full_name="Rita Requester"),
        "a": make_member(tenant, roles=["qa_manager"], full_name="Ann Approver"),
        "b": make_member(tenant, roles=["qa_manager"], full_name="Bob Approver"),
        "c": make_member(tenant, roles=["document_controller"], full_name="Cy Approver"),
    }


@pytest.fixture
def company(tenant):
    return make_company(tenant, name="Northwind Diesel")


def template(tenant, **kw):
    data = {"name": f"T {timezone.now().timestamp()}", "template_type": "document_release", **kw}
    with tenant_context(tenant):
        return approval_template_create(data=data)


def request_for(tenant, record, people, names, *, flow=Flow.ALL_REQUIRED, order=Order.PARALLEL, **kw):
    t = template(tenant, flow=flow, order=order, **kw)
    with tenant_context(tenant, actor=people["requester"]):
        return approval_request_create(record=record, template=t, requested_by=people["requester"],
                                       approvers=[{"user": people[n]} for n in names])


def respond(tenant, req, user, decision="approved", **kw):
    with tenant_context(tenant, actor=user):
        return approval_respond(request=ApprovalRequest.objects.get(pk=req.pk), user=user, password=PASSWORD,
                                decision=decision, **kw)


def status(tenant, req) -> str:
    with tenant_context(tenant):
        return ApprovalRequest.objects.get(pk=req.pk).status


def events(tenant, name):
    with tenant_context(tenant):
        return list(OutboxEvent.objects.filter(name=name).values_list("payload", flat=True))


def notices(tenant, user, kind):
    with tenant_context(tenant):
        return list(Notification.objects.filter(recipient=user, kind=kind))


def test_all_required_parallel_approves_when_everyone_has_and_tells_the_module(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a", "b"])
    assert notices(tenant, people["a"], "core.approval.requested") and notices(tenant, people["b"], "core.approval.requested")
    respond(tenant, req, people["b"])
    assert status(tenant, req) == "pending"
    respond(tenant, req, people["a"], comment="ok")
    assert status(tenant, req) == "approved"
    [payload] = events(tenant, "core.approval.approved")
    assert payload == {"request_id": req.pk, "record_type": "core.company", "record_id": str(company.pk),
                       "template_type": "document_release"}
    assert notices(tenant, people["requester"], "core.approval.completed")
    with tenant_context(tenant):
        shown = manifestations(Company.objects.get(pk=company.pk))
    assert [m["printed_name"] for m in shown] == ["Bob Approver", "Ann Approver"]
    assert {m["meaning"] for m in shown} == {"approved"}


def test_sequential_order_is_enforced_and_the_next_is_notified_in_turn(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a", "b"], order=Order.SEQUENTIAL)
    assert notices(tenant, people["a"], "core.approval.requested")
    assert not notices(tenant, people["b"], "core.approval.requested")
    with pytest.raises(Conflict, match="not your turn"):
        respond(tenant, req, people["b"])
    respond(tenant, req, people["a"])
    assert notices(tenant, people["b"], "core.approval.requested")
    respond(tenant, req, people["b"])
    assert status(tenant, req) == "approved"


def test_threshold_completes_as_soon_as_enough_have_approved(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a", "b", "c"], flow=Flow.THRESHOLD, threshold=2)
    respond(tenant, req, people["a"])
    assert status(tenant, req) == "pending"
    respond(tenant, req, people["c"])
    assert status(tenant, req) == "approved"
    with pytest.raises(Conflict, match="takes no more responses"):
        respond(tenant, req, people["b"])


def test_any_one_completes_at_the_first_approval(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a", "b"], flow=Flow.ANY)
    respond(tenant, req, people["b"])
    assert status(tenant, req) == "approved"


def test_a_rejection_ends_the_request_and_tells_the_requester_why(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a", "b"])
    with pytest.raises(InvalidInput, match="why"):
        respond(tenant, req, people["a"], decision="rejected")
    respond(tenant, req, people["a"], decision="rejected", comment="Drawing revision is wrong")
    assert status(tenant, req) == "rejected"
    [payload] = events(tenant, "core.approval.rejected")
    assert "Drawing revision is wrong" in payload["reason"]
    [notice] = notices(tenant, people["requester"], "core.approval.completed")
    assert "Drawing revision is wrong" in notice.body


def test_delegation_then_approval_works_with_the_history_trigger_on(tenant, people, company, approvable_company):
    """The delegate gets a place of their own; nothing already written is changed (append-only)."""
    req = request_for(tenant, company, people, ["a", "b"], order=Order.SEQUENTIAL)
    with tenant_context(tenant, actor=people["a"]):
        approval_delegate(request=req, user=people["a"], password=PASSWORD, to_user=people["c"], reason="On leave")
    with pytest.raises(NotFound):
        respond(tenant, req, people["a"])
    with pytest.raises(Conflict, match="not your turn"):
        respond(tenant, req, people["b"])
    assert notices(tenant, people["c"], "core.approval.requested")
    respond(tenant, req, people["c"])
    respond(tenant, req, people["b"])
    assert status(tenant, req) == "approved"
    with tenant_context(tenant):
        decisions = list(ApprovalResponse.objects.filter(request_id=req.pk).order_by("id").values_list("decision", "user_id"))
        assert decisions == [("delegated", people["a"].pk), ("approved", people["c"].pk), ("approved", people["b"].pk)]
        assert History.objects.filter(table_name="core_approvalresponse", action="I").count() >= 3
        assert not History.objects.filter(table_name="core_approvalresponse", action__in=["U", "D"]).exists()


def test_delegate_must_be_allowed_to_approve(tenant, people, company, approvable_company):
    customer = make_member(tenant, roles=["auditor"])
    req = request_for(tenant, company, people, ["a"])
    with tenant_context(tenant, actor=people["a"]), pytest.raises(InvalidInput, match="may not approve"):
        approval_delegate(request=req, user=people["a"], password=PASSWORD, to_user=customer, reason="x")


def test_self_approval_refused_unless_allowed_and_justified(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["requester", "a"])
    with pytest.raises(Conflict, match="cannot approve it yourself"):
        respond(tenant, req, people["requester"])
    other = make_company(tenant, name="Other")
    req2 = request_for(tenant, other, people, ["requester", "a"], allow_self_approval=True)
    with pytest.raises(InvalidInput, match="justification"):
        respond(tenant, req2, people["requester"])
    r = respond(tenant, req2, people["requester"], self_approval_justification="Sole engineer on night shift")
    assert r.self_approval and r.self_approval_justification == "Sole engineer on night shift"


def test_a_wrong_password_signs_nothing_and_is_counted(tenant, people, company, approvable_company):
    from traveler.core.errors import NotAuthenticated
    from traveler.core.models import LoginAttempt

    req = request_for(tenant, company, people, ["a"])
    with tenant_context(tenant, actor=people["a"]), pytest.raises(NotAuthenticated):
        approval_respond(request=req, user=people["a"], password="nope", decision="approved")
    assert status(tenant, req) == "pending"
    assert LoginAttempt.objects.filter(email=people["a"].email, succeeded=False, purpose="signature").count() == 1


def test_only_named_approvers_respond(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a"])
    with pytest.raises(NotFound):
        respond(tenant, req, people["b"])


def test_draft_approvers_editable_until_started(tenant, people, company, approvable_company):
    t = template(tenant)
    with tenant_context(tenant, actor=people["requester"]):
        req = approval_request_create(record=company, template=t, requested_by=people["requester"],
                                      approvers=[{"user": people["a"]}], start=False)
        approval_request_set_approvers(request=req, approvers=[{"user": people["b"]}, {"user": people["c"], "required": False}])
        approval_request_start(request=req)
        with pytest.raises(Conflict, match="before the request starts"):
            approval_request_set_approvers(request=req, approvers=[{"user": people["a"]}])
    with pytest.raises(NotFound):
        respond(tenant, req, people["a"])
    respond(tenant, req, people["b"])
    assert status(tenant, req) == "approved"


def test_template_roles_become_approvers(tenant, people, company, approvable_company):
    from traveler.core.models import Role

    with tenant_context(tenant):
        t = approval_template_create(data={"name": "Doc release", "template_type": "document_release"},
                                     approvers=[{"role": Role.objects.get(code="document_controller")}])
    with tenant_context(tenant, actor=people["requester"]):
        req = approval_request_create(record=company, template=t, requested_by=people["requester"])
    respond(tenant, req, people["c"])
    assert status(tenant, req) == "approved"


def test_one_open_request_per_record(tenant, people, company, approvable_company):
    request_for(tenant, company, people, ["a"])
    with pytest.raises(Conflict, match="already has an approval"):
        request_for(tenant, company, people, ["b"])


def test_cancelling_is_recorded_with_a_reason(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a"])
    with tenant_context(tenant, actor=people["requester"]):
        with pytest.raises(InvalidInput):
            approval_request_cancel(request=req, user=people["requester"], reason="")
        approval_request_cancel(request=req, user=people["requester"], reason="Wrong revision attached")
        h = History.objects.filter(table_name="core_approvalrequest", record_id=str(req.pk), action="U").last()
    assert status(tenant, req) == "cancelled"
    assert h.reason == "Wrong revision attached"
    assert events(tenant, "core.approval.cancelled")


def test_sla_escalation_sends_once_per_day(tenant, people, company, approvable_company):
    req = request_for(tenant, company, people, ["a"], sla_days=2)
    # Midday, so that an hour later is still the same day (the reminders are once per day).
    later = (timezone.now() + timedelta(days=3)).replace(hour=12, minute=0)
    with tenant_context(tenant):
        assert approvals_escalate(now=later) == 2  # the approver's reminder and the requester's notice
        assert approvals_escalate(now=later + timedelta(hours=1)) == 0
        assert approvals_escalate(now=later + timedelta(days=1)) == 2
        assert approvals_escalate(now=timezone.now()) == 0  # not overdue yet
    reminders = notices(tenant, people["a"], "core.approval.overdue")
    assert len(reminders) == 2
    assert {n.url for n in reminders} == {f"/approvals/{req.pk}/"}  # the reminder links to the request


def test_my_approvals_lists_what_waits_for_me_overdue_first(tenant, people, company, approvable_company):
    first = request_for(tenant, company, people, ["a"], sla_days=10)
    second = request_for(tenant, make_company(tenant), people, ["a"], sla_days=1)
    seq = request_for(tenant, make_company(tenant), people, ["b", "a"], order=Order.SEQUENTIAL)
    with tenant_context(tenant, actor=people["a"]):
        inbox = approvals_for_user(user=people["a"])
    assert [r.pk for r in inbox["waiting"]] == [second.pk, first.pk]
    assert seq.pk not in [r.pk for r in inbox["waiting"]]
    with tenant_context(tenant, actor=people["requester"]):
        assert {r.pk for r in approvals_for_user(user=people["requester"])["requested"]} == {first.pk, second.pk, seq.pk}

"""CAPA through its services: numbering, the state machine, tasks signed complete, progress, the
root-cause analysis, verification, closure approval and overdue notices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, NotAuthenticated
from traveler.core.models import History, LoginAttempt, Notification, OutboxEvent, Signature
from traveler.core.queue import run_pending
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.qms.choices import CAPA_TRANSITIONS, CapaState
from traveler.qms.models import CAPA, CapaTask, CapaTaskAssignee, RootCause
from traveler.qms.services import capa as svc
from traveler.qms.services.rca import rca_update
from traveler.qms.tests.factories import (
    capa_pending_verification,
    make_capa,
    make_capa_task,
    make_quality_report,
    make_rca,
)


def _drain():
    while run_pending():
        pass


def test_numbers_are_per_tenant_and_year_and_opening_publishes(tenant, other_tenant):
    year = timezone.now().year
    a, b = make_capa(tenant), make_capa(tenant)
    theirs = make_capa(other_tenant)
    assert (a.number, b.number, theirs.number) == (f"CAPA-{year}-0001", f"CAPA-{year}-0002", f"CAPA-{year}-0001")
    assert a.state == CapaState.OPEN
    with tenant_context(tenant):
        opened = OutboxEvent.objects.filter(name="qms.capa.opened").order_by("pk")
        assert [e.payload["number"] for e in opened] == [a.number, b.number]


def test_links_to_reports_parts_work_orders_and_steps(tenant):
    report = make_quality_report(tenant)
    with tenant_context(tenant):
        part, step = report.part, report.step
        capa = make_capa(tenant, quality_reports=[report], parts=[part], work_orders=[part.work_order], steps=[step])
        assert list(capa.quality_reports.all()) == [report] and list(capa.parts.all()) == [part]
        assert list(capa.work_orders.all()) == [part.work_order] and list(capa.steps.all()) == [step]
        capa = svc.capa_update(capa=capa, version=capa.version, data={"parts": []})
        assert not capa.parts.exists() and capa.steps.exists()


def test_bad_input_names_the_field_and_writes_nothing(tenant):
    owner = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=owner):
        for data, field in (({"title": "", "problem_statement": "x", "owner": owner}, "title"),
                            ({"title": "t", "problem_statement": "x"}, "owner"),
                            ({"title": "t", "problem_statement": "x", "owner": owner, "severity": "fatal"}, "severity"),
                            ({"title": "t", "problem_statement": "x", "owner": owner, "state": "closed"}, "state")):
            with pytest.raises(InvalidInput) as exc:
                svc.capa_create(data=data)
            assert field in exc.value.fields
        assert not CAPA.objects.exists()


def test_the_generic_update_never_changes_the_state(tenant):
    capa = make_capa(tenant)
    with tenant_context(tenant):
        for state in ("closed", "in_progress", "open"):
            with pytest.raises(InvalidInput) as exc:
                svc.capa_update(capa=capa, version=capa.version, data={"state": state, "title": "new"})
            assert "state" in exc.value.fields
        capa.refresh_from_db()
        assert (capa.state, capa.title, capa.version) == (CapaState.OPEN, "Seat leaks after grinding", 1)


def _in_state(tenant, state):
    if state == CapaState.OPEN:
        return make_capa(tenant)
    if state == CapaState.IN_PROGRESS:
        capa = make_capa(tenant)
        with tenant_context(tenant):
            return svc.capa_start(capa=capa)
    capa = capa_pending_verification(tenant)
    if state == CapaState.PENDING_VERIFICATION:
        return capa
    with tenant_context(tenant, actor=capa.owner):
        if state == CapaState.CANCELLED:
            return svc.capa_cancel(capa=capa, reason="duplicate")
        svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="bench test")
        return svc.capa_close(capa=CAPA.objects.get(pk=capa.pk))


CALLS = {
    "start": lambda c: svc.capa_start(capa=c),
    "submit": lambda c: svc.capa_submit(capa=c),
    "reopen": lambda c: svc.capa_reopen(capa=c, reason="again"),
    "close": lambda c: svc.capa_close(capa=c),
    "cancel": lambda c: svc.capa_cancel(capa=c, reason="not needed"),
}


@pytest.mark.parametrize("state", CapaState.values)
def test_each_transition_only_from_the_states_of_the_table(tenant, state):
    """Every transition from every state: refused (409 naming the state, nothing changed) unless the
    table allows it."""
    for action, (sources, target) in CAPA_TRANSITIONS.items():
        capa = _in_state(tenant, state)
        with tenant_context(tenant, actor=capa.owner):
            if state in sources:
                if action == "close":
                    svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="m")
                    capa.refresh_from_db()
                if action == "submit":  # its preconditions: tasks done, a primary root cause
                    make_rca(tenant, capa=capa)
                assert CALLS[action](capa).state == target, action
            else:
                before = CAPA.objects.filter(pk=capa.pk).values().get()
                with pytest.raises(Conflict) as exc:
                    CALLS[action](capa)
                assert "state" in exc.value.fields, action
                assert CAPA.objects.filter(pk=capa.pk).values().get() == before


def test_cancelling_needs_a_reason_and_keeps_it(tenant):
    capa = make_capa(tenant)
    with tenant_context(tenant):
        with pytest.raises(InvalidInput) as exc:
            svc.capa_cancel(capa=capa, reason="  ")
        assert "reason" in exc.value.fields
        capa = svc.capa_cancel(capa=capa, reason="Raised twice")
        assert (capa.state, capa.cancel_reason) == (CapaState.CANCELLED, "Raised twice")
        assert OutboxEvent.objects.filter(name="qms.capa.cancelled", payload__capa_id=capa.pk).exists()


def test_submit_needs_every_task_done_and_a_primary_root_cause(tenant):
    capa = make_capa(tenant)
    task = make_capa_task(tenant, capa=capa)
    with tenant_context(tenant, actor=capa.owner):
        capa = svc.capa_start(capa=capa)
        with pytest.raises(Conflict) as exc:
            svc.capa_submit(capa=capa)
        assert "tasks" in exc.value.fields
        svc.capa_task_complete(capa_task=task, user=capa.owner, password=PASSWORD)
        with pytest.raises(Conflict) as exc:
            svc.capa_submit(capa=capa)
        assert "rca" in exc.value.fields
    make_rca(tenant, capa=capa)
    with tenant_context(tenant):
        assert svc.capa_submit(capa=capa).state == CapaState.PENDING_VERIFICATION


def test_task_completion_is_signed_and_a_wrong_password_is_refused(tenant):
    capa = make_capa(tenant)
    task = make_capa_task(tenant, capa=capa)
    with tenant_context(tenant, actor=capa.owner):
        with pytest.raises(NotAuthenticated):
            svc.capa_task_complete(capa_task=task, user=capa.owner, password="wrong password")
        assert LoginAttempt.objects.filter(email=capa.owner.email, succeeded=False).count() == 1
        task.refresh_from_db()
        assert task.completed_at is None and not Signature.objects.exists()
        link = svc.capa_task_complete(capa_task=task, user=capa.owner, password=PASSWORD, comment="wheel re-dressed")
        task.refresh_from_db()
        assert task.completed_at is not None and link.completed_at is not None
        sig = Signature.objects.get()
        assert (sig.meaning, sig.record_id, sig.signer_id, sig.comment) == (
            "completed", str(link.pk), capa.owner.pk, "wheel re-dressed")
        assert sig.record_version == link.version
        with pytest.raises(Conflict):
            svc.capa_task_complete(capa_task=task, user=capa.owner, password=PASSWORD)


def test_completion_rule_any_or_all_assignees(tenant):
    capa = make_capa(tenant)
    ann, bob = (make_member(tenant, roles=["qa_inspector"]) for _ in range(2))
    any_task = make_capa_task(tenant, capa=capa, assignees=[ann, bob], completion_rule="any")
    all_task = make_capa_task(tenant, capa=capa, assignees=[ann, bob], completion_rule="all")
    stranger = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=ann):
        svc.capa_task_complete(capa_task=any_task, user=ann, password=PASSWORD)
        svc.capa_task_complete(capa_task=all_task, user=ann, password=PASSWORD)
    with tenant_context(tenant, actor=stranger):
        with pytest.raises(Conflict) as exc:
            svc.capa_task_complete(capa_task=all_task, user=stranger, password=PASSWORD)
        assert "user" in exc.value.fields
    with tenant_context(tenant):
        any_task.refresh_from_db()
        all_task.refresh_from_db()
        assert any_task.completed_at is not None and all_task.completed_at is None
    with tenant_context(tenant, actor=bob):
        svc.capa_task_complete(capa_task=all_task, user=bob, password=PASSWORD)
    with tenant_context(tenant):
        all_task.refresh_from_db()
        assert all_task.completed_at is not None
        assert Signature.objects.filter(meaning="completed").count() == 3


def test_a_task_without_assignees_is_its_owners(tenant):
    task = make_capa_task(tenant)
    with tenant_context(tenant):
        assert list(CapaTaskAssignee.objects.filter(task=task).values_list("user_id", flat=True)) == [task.owner_id]


def test_progress_is_0_50_and_100_percent(tenant):
    capa = make_capa(tenant)
    with tenant_context(tenant):
        assert svc.capa_progress(capa) == 0
    task = make_capa_task(tenant, capa=capa)
    with tenant_context(tenant, actor=capa.owner):
        assert svc.capa_progress(capa) == 0
        svc.capa_task_complete(capa_task=task, user=capa.owner, password=PASSWORD)
    make_rca(tenant, capa=capa)  # 1 task + root cause of 1 task + 3 stages
    with tenant_context(tenant, actor=capa.owner):
        assert svc.capa_progress(capa) == 50
        capa = svc.capa_submit(capa=svc.capa_start(capa=capa))
        svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="bench test")
        assert svc.capa_progress(capa) == 75
        capa = svc.capa_close(capa=capa)
        assert svc.capa_progress(capa) == 100
        listed = svc.with_progress(CAPA.objects.filter(pk=capa.pk)).get()
        assert svc.capa_progress(listed) == 100


def test_rca_whys_in_order_causes_under_six_ms_and_exactly_one_primary(tenant):
    capa = make_capa(tenant)
    rca = make_rca(tenant, capa=capa, whys=[{"question": f"Why {i}?", "answer": f"Because {i}"} for i in range(1, 6)],
                   causes=[{"category": "machine", "description": "Worn spindle"},
                           {"category": "environment", "description": "Shop at 31 °C"}])
    with tenant_context(tenant):
        assert [w.question for w in rca.whys.all()] == [f"Why {i}?" for i in range(1, 6)]
        assert [w.position for w in rca.whys.all()] == [1, 2, 3, 4, 5]
        for roots in ([{"description": "a", "is_primary": True}, {"description": "b", "is_primary": True}],
                      [{"description": "a"}, {"description": "b"}]):
            with pytest.raises(InvalidInput) as exc:
                rca_update(rca=rca, version=rca.version, data={"root_causes": roots})
            assert "root_causes" in exc.value.fields
        with pytest.raises(InvalidInput) as exc:
            rca_update(rca=rca, version=rca.version, data={"causes": [{"category": "money", "description": "x"}]})
        assert "causes[0].category" in exc.value.fields
        assert RootCause.objects.filter(rca=rca, is_primary=True).count() == 1
        rca = rca_update(rca=rca, version=rca.version, data={"root_causes": [
            {"description": "Dressing interval too long", "is_primary": True}, {"description": "No wear check"}]})
        assert [(r.description, r.is_primary) for r in rca.root_causes.all()] == [
            ("Dressing interval too long", True), ("No wear check", False)]
    with pytest.raises(Conflict):
        make_rca(tenant, capa=capa)


def test_not_effective_sends_it_back_with_a_new_task_and_inconclusive_stays(tenant):
    capa = capa_pending_verification(tenant)
    with tenant_context(tenant, actor=capa.owner):
        with pytest.raises(NotAuthenticated):
            svc.capa_verify(capa=capa, user=capa.owner, password="nope", outcome="confirmed", method="bench")
        v = svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="inconclusive", method="bench")
        capa.refresh_from_db()
        assert capa.state == CapaState.PENDING_VERIFICATION and v.verified_by == capa.owner
        assert Signature.objects.filter(meaning="verified", record_id=str(v.pk)).exists()
        with pytest.raises(InvalidInput) as exc:
            svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="not_effective", method=" ")
        assert "method" in exc.value.fields
        tasks_before = CapaTask.objects.filter(capa=capa).count()
        svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="not_effective",
                        method="Leak test of 20 parts", notes="2 of 20 leaked")
        capa.refresh_from_db()
        assert capa.state == CapaState.IN_PROGRESS
        new = CapaTask.objects.filter(capa=capa).order_by("-pk").first()
        assert CapaTask.objects.filter(capa=capa).count() == tasks_before + 1
        assert new.completed_at is None and new.owner == capa.owner and "not effective" in new.title
        assert svc.capa_progress(capa) < 100


def test_a_minor_capa_closes_after_a_confirmed_verification(tenant):
    capa = capa_pending_verification(tenant)
    with tenant_context(tenant, actor=capa.owner):
        with pytest.raises(Conflict) as exc:
            svc.capa_close(capa=capa)
        assert "verification" in exc.value.fields
        svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="bench")
        capa = svc.capa_close(capa=CAPA.objects.get(pk=capa.pk))
        assert capa.state == CapaState.CLOSED and capa.closed_at is not None
        assert OutboxEvent.objects.filter(name="qms.capa.closed", payload__capa_id=capa.pk).exists()


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_major_capa_closes_through_its_closure_approval(tenant, decision):
    approver = make_member(tenant, roles=["qa_manager"])
    capa = capa_pending_verification(tenant, severity="major")
    with tenant_context(tenant, actor=capa.owner):
        svc.capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="bench")
        capa.refresh_from_db()
        with pytest.raises(Conflict) as exc:
            svc.capa_close(capa=capa)
        assert "approval" in exc.value.fields
        request = svc.capa_closure_request(capa=capa, requested_by=capa.owner, notes="verified on 50 parts")
        assert request.template.template_type == "capa_closure"
        assert list(request.approvers.values_list("user_id", flat=True)) == [approver.pk]
    with tenant_context(tenant, actor=approver):
        approval_respond(request=request, user=approver, password=PASSWORD, decision=decision,
                         comment="" if decision == "approved" else "Only one week of data")
    _drain()
    with tenant_context(tenant):
        capa.refresh_from_db()
        if decision == "approved":
            assert capa.state == CapaState.CLOSED
        else:
            assert capa.state == CapaState.IN_PROGRESS
            last = History.objects.filter(table_name=CAPA._meta.db_table, record_id=str(capa.pk)).order_by("-id")[0]
            assert "Only one week of data" in last.reason


def test_the_closure_template_is_seeded_once_per_tenant(tenant, other_tenant):
    with tenant_context(tenant):
        first = svc.capa_closure_template()
        assert svc.capa_closure_template() == first
        assert (first.template_type, first.name) == ("capa_closure", "CAPA closure")
    with tenant_context(other_tenant):
        assert svc.capa_closure_template().pk != first.pk


def test_overdue_capas_and_tasks_tell_their_owners_once_a_day(tenant):
    today = date(2026, 12, 3)
    late = make_capa(tenant, due_date=today - timedelta(days=2))
    on_time = make_capa(tenant, due_date=today)
    task = make_capa_task(tenant, capa=on_time, due_date=today - timedelta(days=1))
    make_capa_task(tenant, capa=on_time, due_date=today + timedelta(days=1))
    with tenant_context(tenant):
        assert svc.capa_is_overdue(late, today) and not svc.capa_is_overdue(on_time, today)
        assert svc.task_is_overdue(task, today)
        assert svc.capas_overdue_announce(today=today) == 2
        assert svc.capas_overdue_announce(today=today) == 0  # the job runs hourly: once a day
    _drain()
    with tenant_context(tenant):
        notes = Notification.objects.filter(kind="qms.capa.overdue").order_by("pk")
        assert [(n.recipient_id, n.title) for n in notes] == [
            (late.owner_id, f"CAPA overdue: {late.number}"), (task.owner_id, f"CAPA task overdue: {task.title}")]
        assert notes[0].url.endswith(f"/capas/{late.pk}/")
        # The next day: both again, and the CAPA due on the day before.
        assert svc.capas_overdue_announce(today=today + timedelta(days=1)) == 3
    _drain()
    with tenant_context(tenant):
        assert Notification.objects.filter(kind="qms.capa.overdue").count() == 5
        svc.capa_cancel(capa=late, reason="superseded")
        # A cancelled CAPA is not late; the second task now is.
        assert svc.capas_overdue_announce(today=today + timedelta(days=2)) == 3
        assert not OutboxEvent.objects.filter(name="qms.capa.overdue", payload__capa_id=late.pk,
                                              payload__day=(today + timedelta(days=2)).isoformat()).exists()

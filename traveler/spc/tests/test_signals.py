"""Signals from the traveler's own measurements: one per violation however often detection runs, a
run extended rather than repeated, reaction plans (notification, hold, step guard released by a
signed acknowledgement), the closed loop to nonconformances and CAPA through events (and nothing
when no quality module answers), the API and the pages with their permissions and tenants."""

from datetime import UTC, datetime, timedelta

import pytest

from traveler.core.errors import Conflict, InvalidInput, NotAuthenticated
from traveler.core.eventbus import Delivered
from traveler.core.models import Notification, OutboxEvent, Signature
from traveler.core.queue import run_pending
from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part, StepMeasurement
from traveler.mes_lite.services.parts import Blocked, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order
from traveler.spc.choices import SignalStatus
from traveler.spc.models import SPCSignal
from traveler.spc.services import signals as svc
from traveler.spc.services.baselines import baseline_compute, baseline_freeze
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def _line(tenant, **plan):
    """A bore characteristic with a frozen I-MR baseline from 30 stable parts, and its QA manager."""
    qa = make_member(tenant, roles=["qa_manager"])
    wo, bore = measured(tenant, stable_values(30), start=T0)
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, range_to=T0 + timedelta(hours=5))
        base = baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
        if plan:
            svc.reaction_plan_save(definition=bore, data=plan)
    run_pending()
    return qa, bore, base


def _record(tenant, bore, values):
    """Parts of a new work order measured at the bore's step, in order, committed; detection runs."""
    wo, _ = measured(tenant, values, process=_process(tenant, bore))
    run_pending()
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).order_by("pk"))


def _process(tenant, bore):
    with tenant_context(tenant):
        return bore.step.process


def _signals(tenant, **filters):
    with tenant_context(tenant):
        return list(SPCSignal.objects.filter(**filters).order_by("rule", "pk"))


def _center(base):
    return float(base.center)


def test_a_violation_raises_one_signal_however_often_detection_runs(tenant):
    qa, bore, base = _line(tenant)
    c = _center(base)
    parts = _record(tenant, bore, [c, c + 0.0003, 6.009, c - 0.0003, c])
    signals = _signals(tenant)
    # The outlier breaks rule N1; its jumps in and out break the moving-range chart's limit (two
    # consecutive moving ranges: one run, one signal).
    assert [(s.rule, s.points) for s in signals] == [("LIMIT2", 2), ("N1", 1)]
    n1 = signals[1]
    assert n1.baseline_id == base.pk and n1.status == SignalStatus.NEW and n1.step_id == bore.step_id
    assert n1.part_ids == [parts[2].pk] and n1.values == [pytest.approx(6.009)]
    with tenant_context(tenant):
        for _ in range(3):
            assert svc.signals_detect(definition=bore) == []
        # a handler retried: the same event delivered again
        from traveler.spc.handlers import detect_signals

        detect_signals(Delivered(1, "mes.part.advanced", {"from_step_id": bore.step_id}, tenant.pk, None))
    assert len(_signals(tenant)) == 2
    # the measurements the signal stands on are the engine's own numbers
    with tenant_context(tenant):
        flagged = StepMeasurement.objects.get(pk=n1.first_key)
    assert float(flagged.value) == pytest.approx(6.009) and flagged.part_id == parts[2].pk


def test_no_signal_without_an_active_baseline(tenant):
    _, bore = measured(tenant, stable_values(30), start=T0)
    _record(tenant, bore, [6.0, 6.02, 6.0])
    assert _signals(tenant) == []


def test_a_run_that_goes_on_is_the_same_signal_extended(tenant, monkeypatch):
    qa, bore, base = _line(tenant, notify_roles=[])
    high = 6.009
    _record(tenant, bore, [high] * 3)
    [n1] = _signals(tenant, rule="N1")
    assert n1.points == 3
    # More of the run than one detection looks at: the window is cut, the run still joins its signal.
    monkeypatch.setattr(svc, "WINDOW", 4)
    monkeypatch.setattr(svc, "WARMUP", 2)
    more = _record(tenant, bore, [high] * 5)
    [n1] = _signals(tenant, rule="N1")
    assert n1.points == 8 and len(n1.values) == 8
    assert n1.part_ids[-5:] == [p.pk for p in more]
    # back in control, then out again: a new violation, a new signal
    monkeypatch.setattr(svc, "WINDOW", 120)
    c = _center(base)
    _record(tenant, bore, [c, c, high])
    assert [s.points for s in _signals(tenant, rule="N1")] == [8, 1]


def test_the_reaction_plan_notifies_holds_the_parts_and_stops_the_step(tenant):
    engineer = make_member(tenant, roles=["engineering"])
    qa, bore, base = _line(tenant, hold_parts=True, hold_step=True, instructions="Check the spindle.")
    with tenant_context(tenant):
        svc.reaction_plan_save(definition=bore, data={"notify_users": [engineer]})
    c = _center(base)
    parts = _record(tenant, bore, [c, 6.009, c])
    [n1] = _signals(tenant, rule="N1")
    with tenant_context(tenant):
        flagged = Part.objects.get(pk=parts[1].pk)
        assert flagged.status == PartStatus.ON_HOLD and f"SPC signal #{n1.pk}" in flagged.status_reason
        notes = Notification.objects.filter(kind="spc.signal.raised", dedupe_key=f"spc.signal:{n1.pk}")
        assert {n.recipient_id for n in notes} == {qa.pk, engineer.pk}
        assert "Check the spindle." in notes[0].body
    assert n1.step_held and any("Stopped step" in a for a in n1.actions) and any("Held" in a for a in n1.actions)
    # a new part cannot be advanced from the stopped step
    process = _process(tenant, bore)
    wo = make_work_order(tenant, process=process, quantity=1)
    with tenant_context(tenant):
        step = route_steps(process)[0]
        newcomer = Part.objects.get(work_order=wo)
        with pytest.raises(Blocked, match=f"SPC signal #{n1.pk}"):
            parts_advance_bulk(work_order=wo, step=step.pk, parts=[
                {"part": newcomer.pk, "measurements": [{"definition": bore.pk, "value": str(c)}]}])
    # a wrong password acknowledges nothing; the right one signs and releases the step
    with tenant_context(tenant, actor=qa):
        with pytest.raises(NotAuthenticated):
            svc.signal_acknowledge(signal=n1, user=qa, password="wrong")
        assert SPCSignal.objects.get(pk=n1.pk).status == SignalStatus.NEW
        acked = svc.signal_acknowledge(signal=n1, user=qa, password=PASSWORD, comment="Spindle bearing worn")
        assert acked.status == SignalStatus.ACKNOWLEDGED and not acked.step_held and acked.acknowledged_by_id == qa.pk
        sig = Signature.objects.get(record_id=str(n1.pk), meaning="acknowledged")
        assert sig.signer_id == qa.pk
        with pytest.raises(Conflict):
            svc.signal_acknowledge(signal=acked, user=qa, password=PASSWORD)
        # the moving range's signal stopped the step too: it moves once both are acknowledged
        [spread] = SPCSignal.objects.filter(rule="LIMIT2", step_held=True)
        with pytest.raises(Blocked, match=f"SPC signal #{spread.pk}"):
            parts_advance_bulk(work_order=wo, step=step.pk, parts=[
                {"part": newcomer.pk, "measurements": [{"definition": bore.pk, "value": str(c)}]}])
        svc.signal_acknowledge(signal=spread, user=qa, password=PASSWORD)
        parts_advance_bulk(work_order=wo, step=step.pk, parts=[
            {"part": newcomer.pk, "measurements": [{"definition": bore.pk, "value": str(c)}]}])
        with pytest.raises(InvalidInput, match="Cause"):
            svc.signal_investigate(signal=acked, cause=" ")
        done = svc.signal_investigate(signal=acked, cause="Bearing replaced")
        closed = svc.signal_close(signal=done, comment="Parts re-measured, in control again")
    assert closed.status == SignalStatus.CLOSED and closed.closed_by_id == qa.pk and closed.cause == "Bearing replaced"


def test_the_plan_checks_what_it_is_given(tenant):
    qa, bore, base = _line(tenant)
    with tenant_context(tenant):
        with pytest.raises(InvalidInput, match="No such role"):
            svc.reaction_plan_save(definition=bore, data={"notify_roles": ["juggler"]})
        with pytest.raises(InvalidInput, match="Not a reaction plan setting"):
            svc.reaction_plan_save(definition=bore, data={"explode": True})
        with pytest.raises(InvalidInput, match="severity"):
            svc.reaction_plan_save(definition=bore, data={"severity": "apocalyptic"})
        assert svc.reaction_plan_for(bore).pk is None  # nothing half-written


def _qms_answer(tenant, bore, base, qa):
    c = _center(base)
    parts = _record(tenant, bore, [c, 6.009, c])
    run_pending()  # the quality module's answer, then its record on the signal
    [n1] = _signals(tenant, rule="N1")
    return n1, parts


def test_a_signal_opens_a_nonconformance_and_a_capa_through_events(tenant):
    from traveler.qms.handlers import answer_spc_signal
    from traveler.qms.models import CAPA, QuarantineDisposition

    qa = make_member(tenant, roles=["qa_manager"])
    _, bore, base = _line(tenant, open_nonconformance=True, open_capa=True, owner=qa, severity="critical")
    n1, parts = _qms_answer(tenant, bore, base, qa)
    with tenant_context(tenant):
        ncr = QuarantineDisposition.objects.get(title__startswith=f"SPC signal #{n1.pk}")
        assert [p.pk for p in ncr.parts.all()] == [parts[1].pk]
        assert ncr.owner_id == qa.pk and ncr.severity == "critical"
        assert Part.objects.get(pk=parts[1].pk).status == PartStatus.ON_HOLD  # the NCR's containment
        capa = CAPA.objects.get(title__startswith=f"SPC signal #{n1.pk}")
        assert capa.owner_id == qa.pk
    assert {(link["kind"], link["id"]) for link in n1.links} == {("nonconformance", ncr.pk), ("capa", capa.pk)}
    # the event delivered again: nothing opened twice, nothing listed twice
    with tenant_context(tenant):
        raised = OutboxEvent.objects.filter(name="spc.signal.raised", payload__signal_id=n1.pk).get()
        answer_spc_signal(Delivered(raised.pk, raised.name, raised.payload, tenant.pk, raised.actor_id))
    run_pending()
    with tenant_context(tenant):
        assert QuarantineDisposition.objects.filter(title__startswith=f"SPC signal #{n1.pk}").count() == 1
        assert CAPA.objects.filter(title__startswith=f"SPC signal #{n1.pk}").count() == 1
        assert len(SPCSignal.objects.get(pk=n1.pk).links) == 2


def test_without_a_quality_module_the_signal_stands_alone(tenant, monkeypatch):
    from traveler.qms.models import QuarantineDisposition

    monkeypatch.setattr(registry, "event_handlers", [h for h in registry.event_handlers if h.module != "qms"])
    qa = make_member(tenant, roles=["qa_manager"])
    _, bore, base = _line(tenant, open_nonconformance=True, owner=qa)
    n1, parts = _qms_answer(tenant, bore, base, qa)
    assert n1.links == [] and any("Asked the quality module" in a for a in n1.actions)
    with tenant_context(tenant):
        assert not QuarantineDisposition.objects.exists()
        assert Part.objects.get(pk=parts[1].pk).status == PartStatus.IN_PROCESS


# API -----------------------------------------------------------------------------------------------

def test_signal_api_handles_a_signal_and_its_plan(api, tenant, other_tenant):
    qa, bore, base = _line(tenant, hold_step=True)
    c = _center(base)
    _record(tenant, bore, [c, 6.009, c])
    [n1] = _signals(tenant, rule="N1")
    operator = make_member(tenant, roles=["operator"])
    auditor = make_member(tenant, roles=["auditor"])

    api.as_user(auditor, tenant)
    listed = api.get(f"/api/v1/spc/signals/?definition={bore.pk}&status=new").json()
    assert {r["rule"] for r in listed["results"]} == {"N1", "LIMIT2"}
    assert api.get(f"/api/v1/spc/signals/{n1.pk}/").json()["step_held"] is True
    assert api.post(f"/api/v1/spc/signals/{n1.pk}/acknowledge/", {"password": PASSWORD}, format="json").status_code == 403
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/").json()["hold_step"] is True
    assert api.put(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/", {"hold_step": False},
                   format="json").status_code == 403

    api.as_user(operator, tenant)
    assert api.post(f"/api/v1/spc/signals/{n1.pk}/close/", {"comment": "x"}, format="json").status_code == 403

    api.as_user(qa, tenant)
    r = api.post(f"/api/v1/spc/signals/{n1.pk}/acknowledge/", {"password": "nope"}, format="json")
    assert r.status_code in (400, 401, 403) and _signals(tenant, pk=n1.pk)[0].status == SignalStatus.NEW
    r = api.post(f"/api/v1/spc/signals/{n1.pk}/close/", {"comment": "too early"}, format="json")
    assert r.status_code == 409
    r = api.post(f"/api/v1/spc/signals/{n1.pk}/acknowledge/", {"password": PASSWORD, "comment": "Seen"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["step_held"] is False
    r = api.post(f"/api/v1/spc/signals/{n1.pk}/investigate/", {"cause": "Tool wear"}, format="json")
    assert r.json()["status"] == "investigated"
    r = api.post(f"/api/v1/spc/signals/{n1.pk}/close/", {"comment": "Tool changed"}, format="json")
    assert r.json()["status"] == "closed" and r.json()["closed_comment"] == "Tool changed"
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/",
                {"notify_roles": ["qa_manager", "engineering"], "hold_parts": True, "version": 1}, format="json")
    assert r.status_code == 200 and r.json()["notify_roles"] == ["qa_manager", "engineering"]
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/", {"hold_parts": False, "version": 1},
                format="json")
    assert r.status_code == 409  # someone saved it meanwhile
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/", {"notify_roles": ["juggler"]}, format="json")
    assert r.status_code == 400
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/", {"notify_roles": ["qa\x00"]}, format="json")
    assert r.status_code == 400

    # another tenant sees none of it
    stranger = make_member(other_tenant, roles=["qa_manager"])
    api.as_user(stranger, other_tenant)
    assert api.get(f"/api/v1/spc/signals/{n1.pk}/").status_code == 404
    assert api.get("/api/v1/spc/signals/").json()["results"] == []
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/reaction-plan/").status_code == 404
    assert api.post(f"/api/v1/spc/signals/{n1.pk}/investigate/", {"cause": "x"}, format="json").status_code == 404


# Pages ---------------------------------------------------------------------------------------------

def test_signal_pages_list_show_and_acknowledge(client, tenant, other_tenant):
    qa, bore, base = _line(tenant, hold_parts=True)
    c = _center(base)
    parts = _record(tenant, bore, [c, 6.009, c])
    [n1] = _signals(tenant, rule="N1")
    client.force_login(qa)
    page = client.get("/spc/signals/")
    assert page.status_code == 200 and f"SPC signal {n1.pk}" in page.content.decode()
    page = client.get(f"/spc/signals/{n1.pk}/").content.decode()
    assert parts[1].serial_number in page and "Acknowledge (sign)" in page and "Held" in page
    r = client.post(f"/spc/signals/{n1.pk}/acknowledge/", {"password": "wrong", "version": n1.version})
    assert r.status_code == 302 and _signals(tenant, pk=n1.pk)[0].status == SignalStatus.NEW
    client.post(f"/spc/signals/{n1.pk}/acknowledge/", {"password": PASSWORD, "version": n1.version})
    assert _signals(tenant, pk=n1.pk)[0].status == SignalStatus.ACKNOWLEDGED
    page = client.get(f"/spc/signals/{n1.pk}/").content.decode()
    assert "Acknowledge (sign)" not in page and "Record the investigation" in page

    operator = make_member(tenant, roles=["operator"])
    client.force_login(operator)
    assert client.get(f"/spc/signals/{n1.pk}/").status_code == 200  # everyone on the floor may read it
    assert client.post(f"/spc/signals/{n1.pk}/investigate/", {"cause": "x"}).status_code == 403
    assert _signals(tenant, pk=n1.pk)[0].status == SignalStatus.ACKNOWLEDGED

    client.force_login(make_member(other_tenant, roles=["qa_manager"]))
    assert client.get(f"/spc/signals/{n1.pk}/").status_code == 404
    assert client.post(f"/spc/signals/{n1.pk}/investigate/", {"cause": "x"}).status_code == 404


def test_the_reaction_plan_page_shows_and_saves_the_plan(client, tenant, other_tenant):
    qa, bore, base = _line(tenant)
    engineer = make_member(tenant, roles=["engineering"])
    url = f"/spc/characteristics/{bore.pk}/reaction-plan/"
    client.force_login(engineer)
    page = client.get(url).content.decode()
    assert 'data-testid="reaction-plan-form"' in page and "a signal notifies the QA managers" in page
    r = client.post(url, {"notify_roles": ["qa_manager", "production_manager"], "notify_users": [engineer.pk],
                          "hold_step": "on", "severity": "critical", "instructions": "Stop the lathe."})
    assert r.status_code == 302
    with tenant_context(tenant):
        plan = svc.reaction_plan_for(bore)
        assert plan.pk and plan.hold_step and not plan.hold_parts and plan.severity == "critical"
        assert plan.notify_roles == ["qa_manager", "production_manager"]
        assert [u.pk for u in plan.notify_users.all()] == [engineer.pk]
    r = client.post(url, {"severity": "critical", "version": plan.version + 5})
    assert r.status_code == 409  # saved by someone else meanwhile: nothing written
    with tenant_context(tenant):
        assert svc.reaction_plan_for(bore).hold_step
    # the chart's tabs lead here and to its signals
    chart = client.get(f"/spc/characteristics/{bore.pk}/").content.decode()
    assert url in chart and f"/spc/signals/?definition={bore.pk}" in chart

    operator = make_member(tenant, roles=["operator"])
    client.force_login(operator)
    page = client.get(url).content.decode()
    assert 'data-testid="reaction-plan"' in page and "reaction-plan-form" not in page and "Stop the lathe." in page
    assert client.post(url, {"severity": "minor"}).status_code == 403
    client.force_login(make_member(other_tenant, roles=["qa_manager"]))
    assert client.get(url).status_code == 404


def test_the_signal_list_narrows_to_one_characteristic(client, tenant):
    qa, bore, base = _line(tenant)
    c = _center(base)
    _record(tenant, bore, [c, 6.009, c])
    _, other = measured(tenant, stable_values(5))
    client.force_login(qa)
    [n1] = _signals(tenant, rule="N1")
    assert f"SPC signal {n1.pk}" in client.get(f"/spc/signals/?definition={bore.pk}").content.decode()
    assert f"SPC signal {n1.pk}" not in client.get(f"/spc/signals/?definition={other.pk}").content.decode()


def test_a_detection_reads_only_its_window_and_keeps_the_subgroups_aligned(tenant, monkeypatch):
    """X̄ subgroups of 3 count from the first value after phase I: the window read from the database
    leaves out whole subgroups, so the keys (and the signals) are those of the full series."""
    from traveler.spc.services.characteristics import (
        Filters,
        characteristic_save,
        measurements,
        measurements_count,
        subgroups,
    )

    qa = make_member(tenant, roles=["qa_manager"])
    _, bore = measured(tenant, stable_values(90), start=T0)
    with tenant_context(tenant, actor=qa):
        characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 3})
        base = baseline_freeze(baseline=baseline_compute(definition=bore, range_to=T0 + timedelta(days=1)),
                               user=qa, password=PASSWORD)
    c = _center(base)
    _record(tenant, bore, [c] * 30 + [6.009] * 6 + [c] * 3 + [c])  # 13 subgroups: 10 in control, 2 high, 1 back; 1 value waits
    with tenant_context(tenant):
        since = Filters(date_from=base.range_to)
        every = measurements(bore, since)
        assert measurements_count(bore, since) == len(every) == 40
        assert measurements(bore, Filters(date_from=base.range_to, last=10)) == every[-10:]
        full = {(g.key, tuple(g.values)) for g in subgroups(every, base)}
    [whole] = _signals(tenant, rule="N1")
    assert whole.points == 2
    monkeypatch.setattr(svc, "WINDOW", 3)
    monkeypatch.setattr(svc, "WARMUP", 1)
    with tenant_context(tenant):
        # keep = 4 subgroups * 3 + 40 % 3 = 13 values: the last four whole subgroups and the one waiting
        window = measurements(bore, Filters(date_from=base.range_to, last=4 * 3 + 1))
        assert {(g.key, tuple(g.values)) for g in subgroups(window, base)} <= full
        assert svc.signals_detect(definition=bore) == []
    [again] = _signals(tenant, rule="N1")
    assert again.pk == whole.pk and again.points == 2

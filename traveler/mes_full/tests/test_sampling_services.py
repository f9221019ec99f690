"""Sampling on the traveler: decisions as parts arrive, the guard, fallback entry and exit, versions,
determinism, replay and the statements a bulk advance adds."""

from __future__ import annotations

from contextlib import nullcontext
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import BlockKind
from traveler.mes_full.models import SamplingAnalytics, SamplingAuditLog, SamplingRule, SamplingTriggerState
from traveler.mes_full.services.requirements import inspection_record
from traveler.mes_full.services.sampling import ruleset_preview, ruleset_update, ruleset_versions, sampling_replay
from traveler.mes_full.tests.factories import make_ruleset
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import Blocked, part_advance, part_rework, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_process, make_work_order

EVERY_5TH_THEN_ALL = [{"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}]


@pytest.fixture
def process(tenant):
    return make_process(tenant)


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, roles=["qa_inspector"])


def parts(tenant, wo) -> list[Part]:
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).order_by("sequence"))


def steps(tenant, process):
    with tenant_context(tenant):
        return route_steps(process)


def logged(tenant, wo, step=None) -> list[tuple[int, str, bool]]:
    """(position, mode, selected) of each decision of ``wo`` (at ``step``), by position."""
    with tenant_context(tenant):
        qs = SamplingAuditLog.objects.filter(work_order=wo)
        if step is not None:
            qs = qs.filter(step=step)
        return sorted(qs.values_list("position", "mode", "selected"))


def selected(tenant, wo, step=None) -> list[int]:
    return [p for p, _, s in logged(tenant, wo, step) if s]


def advance_bulk(tenant, wo, step, some: list[Part], queries=None):
    with tenant_context(tenant):
        readings = good_readings(step)
        with queries if queries is not None else nullcontext():
            return parts_advance_bulk(work_order=wo, step=step.pk,
                                      parts=[{"part": p.pk, "measurements": readings} for p in some])


def advance(tenant, part, step):
    with tenant_context(tenant):
        return part_advance(part=part, step=step.pk, measurements=good_readings(step))


def inspect(tenant, inspector, part, passed=True):
    with tenant_context(tenant, actor=inspector):
        part = Part.objects.get(pk=part.pk)
        return inspection_record(part=part, passed=passed, user=inspector, password=PASSWORD,
                                 note="" if passed else "Burr on the bore")


def test_parts_created_at_a_sampled_first_step_are_decided_at_once(tenant, process):
    rs = make_ruleset(tenant, process=process, step=1)
    wo = make_work_order(tenant, process=process, quantity=12)
    assert selected(tenant, wo) == [5, 10]
    assert {m for _, m, _ in logged(tenant, wo)} == {"primary"}
    with tenant_context(tenant):
        row = SamplingAuditLog.objects.filter(work_order=wo, position=5).get()
        assert (row.ruleset_id, row.revision, row.quantity, row.rule.kind, row.step_id) == (
            rs.pk, 1, 12, "every_nth", steps(tenant, process)[0].pk)
        a = SamplingAnalytics.objects.get(ruleset=rs, work_order=wo)
        assert (a.parts_total, a.parts_sampled, a.parts_fallback, a.defects_found) == (12, 2, 0, 0)
        assert a.planned_rate == pytest.approx(2 / 12) and a.actual_rate == pytest.approx(2 / 12)


def test_decisions_do_not_depend_on_which_parts_move_when(tenant, process):
    """The same parts are selected at the second step whichever parts arrive first, and however many
    at a time."""
    rs = make_ruleset(tenant, process=process, step=2, rules=[{"kind": "percentage", "percent": "20"}])
    first, second, _ = steps(tenant, process)
    wo_a = make_work_order(tenant, process=process, quantity=20)
    wo_b = make_work_order(tenant, process=process, quantity=20)
    a, b = parts(tenant, wo_a), parts(tenant, wo_b)
    advance_bulk(tenant, wo_a, first, a)
    advance_bulk(tenant, wo_b, first, b[13:])  # the last ones first, then one by one in reverse
    for p in reversed(b[:13]):
        advance(tenant, p, first)
    assert selected(tenant, wo_a, second) == selected(tenant, wo_b, second) == [5, 10, 15, 20]
    assert sampling_replay_ok(tenant, wo_a) and sampling_replay_ok(tenant, wo_b)
    with tenant_context(tenant):
        assert SamplingAuditLog.objects.filter(ruleset=rs).count() == 40


def sampling_replay_ok(tenant, wo) -> bool:
    with tenant_context(tenant):
        result = sampling_replay(work_order=wo)
    assert result.count and result.lines() == []
    return True


def test_a_selected_part_waits_for_its_inspection(tenant, process, inspector):
    make_ruleset(tenant, process=process, step=1)
    first, second, _ = steps(tenant, process)
    wo = make_work_order(tenant, process=process, quantity=6)
    ps = parts(tenant, wo)
    advance(tenant, ps[3], first)  # the 4th is not selected
    with pytest.raises(Blocked) as blocked:
        advance(tenant, ps[4], first)
    (refusal,) = blocked.value.refusals
    assert refusal.kind == BlockKind.SAMPLING_REQUIRED and refusal.part_ids == (ps[4].pk,)
    assert refusal.reason == "Inspect this part (rule: every 5th) at 'Machine body' before it passes."
    with pytest.raises(Blocked) as blocked:  # in a bulk advance it names the part, and nothing moves
        advance_bulk(tenant, wo, first, [ps[0], ps[4]])
    assert [r.reason for r in blocked.value.refusals] == [
        f"Inspect {ps[4].serial_number} (rule: every 5th) at 'Machine body' before it passes."]
    assert parts(tenant, wo)[0].current_step_id == first.pk
    inspect(tenant, inspector, ps[4])
    assert advance(tenant, ps[4], first)["result"] == "advanced"


def test_a_defect_starts_the_fallback_for_the_next_m_parts(tenant, process, inspector):
    rs = make_ruleset(tenant, process=process, step=2, rules=EVERY_5TH_THEN_ALL, fallback_parts=3)
    first, second, _ = steps(tenant, process)
    wo = make_work_order(tenant, process=process, quantity=20)
    ps = parts(tenant, wo)
    advance_bulk(tenant, wo, first, ps[:5])
    assert selected(tenant, wo, second) == [5]
    inspect(tenant, inspector, ps[4], passed=False)  # the defect: fallback for the next 3 parts
    with tenant_context(tenant):
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.fallback_active, state.parts_remaining, state.triggered_by_id) == (True, 3, ps[4].pk)
    advance_bulk(tenant, wo, first, ps[5:10])
    assert logged(tenant, wo, second)[5:] == [(6, "fallback", True), (7, "fallback", True), (8, "fallback", True),
                                              (9, "primary", False), (10, "primary", True)]
    with pytest.raises(Blocked) as blocked:
        advance(tenant, ps[6], second)
    assert blocked.value.refusals[0].reason == (
        f"Inspect this part (rule: every part, fallback after defect on {ps[4].serial_number}) at 'Leak test' "
        "before it passes.")
    with tenant_context(tenant):
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.fallback_active, state.parts_remaining) == (False, None)
        a = SamplingAnalytics.objects.get(ruleset=rs, work_order=wo)
        assert (a.parts_total, a.parts_sampled, a.parts_fallback, a.defects_found) == (10, 5, 3, 1)
    assert sampling_replay_ok(tenant, wo)


def test_the_fallback_ends_after_k_passes_in_a_row(tenant, process, inspector):
    rs = make_ruleset(tenant, process=process, step=2, rules=EVERY_5TH_THEN_ALL, fallback_passes=2)
    first, second, _ = steps(tenant, process)
    wo = make_work_order(tenant, process=process, quantity=20)
    ps = parts(tenant, wo)
    advance_bulk(tenant, wo, first, ps[:5])
    inspect(tenant, inspector, ps[4], passed=False)
    advance_bulk(tenant, wo, first, ps[5:8])
    assert logged(tenant, wo, second)[5:] == [(6, "fallback", True), (7, "fallback", True), (8, "fallback", True)]
    inspect(tenant, inspector, ps[5])
    inspect(tenant, inspector, ps[2])  # any inspection at the step counts: a pass of a part not selected
    with tenant_context(tenant):
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.fallback_active, state.consecutive_passes) == (False, 0)
    advance_bulk(tenant, wo, first, ps[8:10])
    assert logged(tenant, wo, second)[8:] == [(9, "primary", False), (10, "primary", True)]


def test_a_second_defect_restarts_the_fallback(tenant, process, inspector):
    rs = make_ruleset(tenant, process=process, step=2, rules=EVERY_5TH_THEN_ALL, fallback_parts=2, fallback_passes=3)
    first, second, _ = steps(tenant, process)
    wo = make_work_order(tenant, process=process, quantity=20)
    ps = parts(tenant, wo)
    advance_bulk(tenant, wo, first, ps[:5])
    inspect(tenant, inspector, ps[4], passed=False)
    advance(tenant, ps[5], first)
    inspect(tenant, inspector, ps[5], passed=False)  # again: two more parts from here
    with tenant_context(tenant):
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.parts_remaining, state.triggered_by_id) == (2, ps[5].pk)
    advance_bulk(tenant, wo, first, ps[6:9])
    assert logged(tenant, wo, second)[5:] == [(6, "fallback", True), (7, "fallback", True), (8, "fallback", True),
                                              (9, "primary", False)]
    with tenant_context(tenant):
        assert SamplingAnalytics.objects.get(ruleset=rs, work_order=wo).defects_found == 2


def test_a_rule_set_made_after_parts_arrived_decides_them_when_first_needed(tenant, process, inspector):
    first = steps(tenant, process)[0]
    wo = make_work_order(tenant, process=process, quantity=10)
    ps = parts(tenant, wo)
    make_ruleset(tenant, process=process, step=1)
    assert logged(tenant, wo) == []
    assert advance(tenant, ps[3], first)["result"] == "advanced"
    with pytest.raises(Blocked):
        advance(tenant, ps[4], first)
    assert logged(tenant, wo) == [(4, "primary", False)]  # the refused advance's decision is rolled back with it
    with tenant_context(tenant):
        assert SamplingAnalytics.objects.get(work_order=wo).parts_total == 1


def test_a_part_reworked_back_to_a_sampled_step_keeps_its_decision_and_is_inspected_again(tenant, process, inspector):
    make_ruleset(tenant, process=process, step=1)
    first, second, _ = steps(tenant, process)
    wo = make_work_order(tenant, process=process, quantity=5)
    part = parts(tenant, wo)[4]
    inspect(tenant, inspector, part)
    advance(tenant, part, first)
    with tenant_context(tenant):
        part_rework(part=Part.objects.get(pk=part.pk), to_step=first, reason="Re-machine the bore")
    with pytest.raises(Blocked):  # the inspection of the first visit does not cover this one
        advance(tenant, part, first)
    assert logged(tenant, wo, first) == [(1, "primary", False), (2, "primary", False), (3, "primary", False),
                                         (4, "primary", False), (5, "primary", True)]


def test_the_most_specific_rule_set_decides(tenant, process):
    first, second, last = steps(tenant, process)
    make_ruleset(tenant, process=process, step=None, rules=[{"kind": "first_n", "count": 1}])
    make_ruleset(tenant, process=process, step=2, rules=[{"kind": "last_n", "count": 1}])
    wo = make_work_order(tenant, process=process, quantity=4)
    advance_bulk(tenant, wo, first, parts(tenant, wo)[1:2])
    assert selected(tenant, wo, first) == [1]
    assert logged(tenant, wo, second) == [(2, "primary", False)]
    with pytest.raises(InvalidInput) as exc:
        make_ruleset(tenant, process=process, step=2)
    assert "already samples this part type" in exc.value.message


def test_a_change_of_rules_is_a_new_version_and_decisions_name_theirs(tenant, process, inspector):
    rs = make_ruleset(tenant, process=process, step=1)
    wo = make_work_order(tenant, process=process, quantity=5)
    with tenant_context(tenant, actor=inspector):
        renamed = ruleset_update(ruleset=rs, version=rs.version, data={"name": "Bore check"})
        assert (renamed.revision, renamed.name) == (1, "Bore check")
        changed = ruleset_update(ruleset=renamed, version=renamed.version,
                                 data={"rules": [{"kind": "every_nth", "count": 2}]}, reason="More often")
        assert changed.revision == 2
        with pytest.raises(Conflict):
            ruleset_update(ruleset=changed, version=rs.version, data={"name": "Stale"})
        with pytest.raises(InvalidInput):
            ruleset_update(ruleset=changed, version=changed.version, data={"step": None})
        versions = ruleset_versions(changed)
        assert [(v.number, [(r.kind, r.count) for r in v.rules.all()]) for v in versions] == [
            (2, [("every_nth", 2)]), (1, [("every_nth", 5)])]
        assert versions[0].note == "More often"
    wo2 = make_work_order(tenant, process=process, quantity=5)
    assert selected(tenant, wo) == [5] and selected(tenant, wo2) == [2, 4]
    with tenant_context(tenant):
        assert set(SamplingAuditLog.objects.filter(work_order=wo).values_list("revision", flat=True)) == {1}
        assert set(SamplingAuditLog.objects.filter(work_order=wo2).values_list("revision", flat=True)) == {2}
    assert sampling_replay_ok(tenant, wo) and sampling_replay_ok(tenant, wo2)


def test_rules_are_checked_naming_the_field(tenant, process):
    cases = [
        ([], "rules"), ([{"kind": "sometimes"}], "rules[0].kind"), ([{"kind": "every_nth"}], "rules[0].count"),
        ([{"kind": "every_nth", "count": 0}], "rules[0].count"), ([{"kind": "percentage", "percent": "120"}],
                                                                  "rules[0].percent"),
        ([{"kind": "random", "percent": 5, "seed": -1}], "rules[0].seed"),
        ([{"kind": "z14_lot", "inspection_level": "IX", "aql": "1.0"}], "rules[0].inspection_level"),
        ([{"kind": "z14_lot", "inspection_level": "II", "aql": "1.1"}], "rules[0].aql"),
        ([{"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}], "fallback_parts"),
    ]
    for rules, field in cases:
        with pytest.raises(InvalidInput) as exc:
            make_ruleset(tenant, process=process, rules=rules)
        assert field in exc.value.fields, (rules, exc.value.fields)
    lot = make_ruleset(tenant, process=process, rules=[{"kind": "z14_lot", "inspection_level": "s3", "aql": 0.65},
                                                       {"kind": "random", "percent": "2.5"}])
    with tenant_context(tenant):
        rules = list(SamplingRule.objects.filter(version__ruleset=lot).order_by("kind"))
    assert [(r.kind, r.inspection_level, r.aql) for r in rules][0] == ("random", "", "")
    assert [(r.kind, r.inspection_level, r.aql) for r in rules][1] == ("z14_lot", "S-3", "0.65")
    assert rules[0].seed is not None  # drawn and recorded when not given


def test_preview(tenant):
    with tenant_context(tenant):
        p = ruleset_preview(rules=EVERY_5TH_THEN_ALL, quantity=50, fallback_parts=10)
    assert p["text"].startswith("In a work order of 50 parts this selects parts 5, 10, 15,")
    assert p["text"].endswith("after a defect the next 10 parts.")


def run_replay(wo, as_owner) -> tuple[int, str, str]:
    """The command as an administrator runs it: as the database owner, across tenants."""
    out, err = StringIO(), StringIO()
    try:
        with as_owner():
            call_command("sampling_replay", wo.number, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_replay_agrees_and_reports_a_tampered_decision(tenant, process, as_owner):
    make_ruleset(tenant, process=process, step=1)
    wo = make_work_order(tenant, process=process, quantity=10)
    code, out, _ = run_replay(wo, as_owner)
    assert code == 0 and "10 decisions recomputed, all agree" in out
    with tenant_context(tenant):
        row = SamplingAuditLog.objects.get(work_order=wo, position=3)
        with as_owner(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE mes_full_samplingauditlog DISABLE TRIGGER traveler_append_only")
            cur.execute("UPDATE mes_full_samplingauditlog SET selected = true WHERE id = %s", [row.pk])
            cur.execute("ALTER TABLE mes_full_samplingauditlog ENABLE TRIGGER traveler_append_only")
    code, out, err = run_replay(wo, as_owner)
    serial = parts(tenant, wo)[2].serial_number
    assert code == 1
    assert f"{serial} at 'Machine body' (decision {row.pk}): logged selected, recomputed not selected" in err
    assert "1 of 10 decisions differ" in err


def test_the_log_is_append_only(tenant, process):
    make_ruleset(tenant, process=process, step=1)
    wo = make_work_order(tenant, process=process, quantity=2)
    from django.db import DatabaseError, transaction

    with tenant_context(tenant), pytest.raises(DatabaseError), transaction.atomic():
        SamplingAuditLog.objects.filter(work_order=wo).update(selected=True)


@pytest.mark.parametrize("sampled", [False, True])
def test_a_bulk_advance_into_a_sampled_step_adds_a_constant_number_of_statements(tenant, process, sampled):
    if sampled:
        make_ruleset(tenant, process=process, step=2, rules=EVERY_5TH_THEN_ALL, fallback_parts=3)
    first = steps(tenant, process)[0]
    counts = []
    for n in (4, 24):
        wo = make_work_order(tenant, process=process, quantity=n)
        q = CaptureQueriesContext(connection)
        advance_bulk(tenant, wo, first, parts(tenant, wo), queries=q)
        counts.append(len(q))
        if sampled:
            assert len(logged(tenant, wo)) == n
    assert counts[0] == counts[1], counts


def test_sampling_adds_one_query_to_an_advance_at_a_step_nothing_samples(tenant, process):
    """The guard looks up the rule sets of the step and of the next one in one query; the recorder uses
    what it found."""
    from traveler.core.registry import registry
    from traveler.mes_full import handlers

    make_ruleset(tenant, process=process, step=3)
    first = steps(tenant, process)[0]
    wo = make_work_order(tenant, process=process, quantity=2)
    a, b = parts(tenant, wo)
    counts = []
    for part, sampling in ((a, True), (b, False)):
        guards, recorders = list(registry.guards["mes.part.advance"]), list(registry.recorders["mes.part.advance"])
        if not sampling:
            registry.guards["mes.part.advance"] = [g for g in guards if g.guard is not handlers._sampling_guard]
            registry.recorders["mes.part.advance"] = [r for r in recorders if r is not handlers._sampling_on_advance]
        try:
            with tenant_context(tenant):
                readings = good_readings(first)
                with CaptureQueriesContext(connection) as q:
                    part_advance(part=part, step=first.pk, measurements=readings)
        finally:
            registry.guards["mes.part.advance"], registry.recorders["mes.part.advance"] = guards, recorders
        counts.append(len(q))
    assert counts[0] - counts[1] == 1, counts


def test_a_failed_quality_report_is_a_defect(tenant, process):
    """Quality's ``qms.quality_report.created`` (by name) starts the fallback like a failed inspection."""
    from traveler.core.eventbus import Delivered
    from traveler.mes_full.handlers import _sampling_quality_report

    rs = make_ruleset(tenant, process=process, step=1, rules=EVERY_5TH_THEN_ALL, fallback_parts=2)
    first = steps(tenant, process)[0]
    wo = make_work_order(tenant, process=process, quantity=10)
    ps = parts(tenant, wo)

    def report(part, status):
        _sampling_quality_report(Delivered(id=1, name="qms.quality_report.created", tenant_id=tenant.pk, actor_id=None,
                                           payload={"report_id": 10**9, "part_id": part.pk, "step_id": first.pk,
                                                    "status": status, "origin": "manual"}))

    with tenant_context(tenant):
        report(ps[1], "pending")
        assert not SamplingTriggerState.objects.get(ruleset=rs, work_order=wo).fallback_active
        report(ps[1], "fail")
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.fallback_active, state.parts_remaining, state.triggered_by_id) == (True, 2, ps[1].pk)
        assert SamplingAnalytics.objects.get(ruleset=rs, work_order=wo).defects_found == 1

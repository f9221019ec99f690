"""The defect Pareto and first-pass yield on known data: ordering, shares, every grouping, filters,
tenants, and first-pass yield on a hand-built transition log and on one written by the traveler."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import Part, StepTransitionLog
from traveler.mes_lite.services.parts import part_advance, part_hold, part_release
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order
from traveler.qms.choices import ReportStatus
from traveler.qms.models import QualityReport
from traveler.qms.services.analytics import analytics_filters, defect_pareto, first_pass_yield
from traveler.qms.services.reports import quality_report_archive, quality_report_create
from traveler.qms.tests.factories import make_defect_code

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def _parts(tenant, n: int):
    wo = make_work_order(tenant, quantity=n)
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).order_by("serial_number")), route_steps(wo.process)


def _report(tenant, part, step, defects, *, on: date = TODAY) -> QualityReport:
    with tenant_context(tenant):
        report = quality_report_create(part=part, step=step, status=ReportStatus.FAIL,
                                       defects=[{"code": c, "count": n} for c, n in defects])
        QualityReport.objects.filter(pk=report.pk).update(created_at=_at(on))
        return report


def _filters(tenant, **params):
    with tenant_context(tenant):
        return analytics_filters({"from": "2026-01-01", "to": "2026-12-31", **params}, today=TODAY)


def _pareto(tenant, by="code", **params):
    with tenant_context(tenant):
        return defect_pareto(by=by, filters=_filters(tenant, **params))


@pytest.fixture
def known(tenant):
    """Ten defects: BURR 5 (on two part types), CRACK 3, DENT 2; and an archived report's, not counted."""
    burr = make_defect_code(tenant, code="BURR", description="Burr on bore", severity="minor")
    crack = make_defect_code(tenant, code="CRACK", description="Crack", severity="critical")
    dent = make_defect_code(tenant, code="DENT", description="Dent", severity="major")
    (a1, a2), route_a = _parts(tenant, 2)
    (b1,), route_b = _parts(tenant, 1)
    _report(tenant, a1, route_a[0], [(burr, 3), (crack, 1)], on=date(2026, 6, 1))   # Monday, week 23
    _report(tenant, a2, route_a[1], [(crack, 2), (dent, 2)], on=date(2026, 6, 3))   # week 23
    _report(tenant, b1, route_b[0], [(burr, 2)], on=date(2026, 7, 10))              # July
    gone = _report(tenant, b1, route_b[1], [(dent, 7)], on=date(2026, 6, 2))
    with tenant_context(tenant):
        quality_report_archive(quality_report=gone, reason="recorded on the wrong part")
    return {"codes": (burr, crack, dent), "parts": (a1, b1), "routes": (route_a, route_b)}


def test_pareto_by_code_is_sorted_with_cumulative_percent(tenant, known):
    p = _pareto(tenant)
    burr, crack, dent = known["codes"]
    assert p["total"] == 10
    assert [(r["key"], r["count"], r["percent"], r["cumulative_percent"]) for r in p["rows"]] == [
        (burr.pk, 5, 50.0, 50.0), (crack.pk, 3, 30.0, 80.0), (dent.pk, 2, 20.0, 100.0)]
    assert p["rows"][0]["label"] == "BURR – Burr on bore"


def test_pareto_by_part_type_step_and_period(tenant, known):
    a1, b1 = known["parts"]
    route_a, route_b = known["routes"]
    by_type = _pareto(tenant, "part_type")["rows"]
    assert [(r["key"], r["count"], r["cumulative_percent"]) for r in by_type] == [
        (a1.part_type_id, 8, 80.0), (b1.part_type_id, 2, 100.0)]
    by_step = _pareto(tenant, "step")["rows"]
    # Equal counts: the lower step number first.
    assert [(r["key"], r["count"]) for r in by_step] == [(route_a[0].pk, 4), (route_a[1].pk, 4), (route_b[0].pk, 2)]
    with tenant_context(tenant):
        route_name = route_a[0].process.name
    assert by_step[0]["label"] == f"{route_name}: 10. Machine body"
    assert [(r["label"], r["count"]) for r in _pareto(tenant, "month")["rows"]] == [("2026-06", 8), ("2026-07", 2)]
    assert [(r["label"], r["count"]) for r in _pareto(tenant, "week")["rows"]] == [("2026-W23", 8), ("2026-W28", 2)]
    days = _pareto(tenant, "day")["rows"]
    assert [(r["key"], r["count"]) for r in days] == [("2026-06-01", 4), ("2026-06-03", 4), ("2026-07-10", 2)]


def test_pareto_filters(tenant, known):
    burr, crack, dent = known["codes"]
    a1, b1 = known["parts"]
    route_a, _ = known["routes"]
    assert [r["key"] for r in _pareto(tenant, severity="critical")["rows"]] == [crack.pk]
    assert [(r["key"], r["count"]) for r in _pareto(tenant, part_type=b1.part_type_id)["rows"]] == [(burr.pk, 2)]
    assert [(r["key"], r["count"]) for r in _pareto(tenant, step=route_a[0].pk)["rows"]] == [(burr.pk, 3), (crack.pk, 1)]
    june = _pareto(tenant, **{"from": "2026-06-02", "to": "2026-06-30"})
    assert june["total"] == 4 and [r["key"] for r in june["rows"]] == [crack.pk, dent.pk]
    assert _pareto(tenant, **{"from": "2026-06-01", "to": "2026-06-01"})["total"] == 4  # "to" includes its day
    assert _pareto(tenant, **{"from": "2025-01-01", "to": "2025-12-31"}) == {
        "by": "code", "filters": {"from": date(2025, 1, 1), "to": date(2025, 12, 31), "part_type": None, "step": None,
                                  "severity": None}, "total": 0, "rows": []}


@pytest.mark.parametrize("params,field", [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "2026-06-02", "to": "2026-06-01"}, "from"),
    ({"part_type": "x"}, "part_type"), ({"part_type": "999999999"}, "part_type"), ({"step": "0"}, "step"),
    ({"severity": "fatal"}, "severity"),
])
def test_bad_filters_name_their_field(tenant, params, field):
    with tenant_context(tenant), pytest.raises(InvalidInput) as exc:
        analytics_filters(params, today=TODAY)
    assert field in exc.value.fields


def test_bad_grouping_names_by(tenant):
    with tenant_context(tenant), pytest.raises(InvalidInput) as exc:
        defect_pareto(by="operator", filters=analytics_filters({}, today=TODAY))
    assert "by" in exc.value.fields


def test_default_period_is_the_last_30_days(tenant):
    with tenant_context(tenant):
        f = analytics_filters({}, today=TODAY)
        assert (f.date_from, f.date_to) == (TODAY - timedelta(days=29), TODAY)
        f = analytics_filters({"to": "2026-03-31"}, today=TODAY)
        assert (f.date_from, f.date_to) == (date(2026, 3, 2), date(2026, 3, 31))


def test_pareto_and_yield_see_only_their_tenant(tenant, other_tenant, known):
    (theirs,), route = _parts(other_tenant, 1)
    code = make_defect_code(other_tenant, code="BURR")
    _report(other_tenant, theirs, route[0], [(code, 50)])
    with tenant_context(other_tenant):
        StepTransitionLog.objects.create(part=theirs, action="advance", from_step=route[0], to_step=route[1],
                                         from_status="pending", to_status="in_process", transition_time=_at(TODAY))
    assert _pareto(tenant)["total"] == 10
    assert _pareto(other_tenant)["total"] == 50
    with tenant_context(tenant):
        assert first_pass_yield(filters=_filters(tenant))["steps"] == []
    with tenant_context(tenant), pytest.raises(InvalidInput) as exc:  # their ids do not exist here
        analytics_filters({"part_type": theirs.part_type_id}, today=TODAY)
    assert "part_type" in exc.value.fields


# First-pass yield --------------------------------------------------------------------------------

def _log(part, action, from_step, to_step, day, hour, from_status="in_process", to_status="in_process"):
    StepTransitionLog.objects.create(part=part, action=action, from_step=from_step, to_step=to_step,
                                     from_status=from_status, to_status=to_status, transition_time=_at(day, hour))


def test_first_pass_yield_on_a_hand_built_log(tenant):
    parts, (s1, s2, s3) = _parts(tenant, 6)
    first, quarantined, held, scrapped, reworked, early = parts
    d = date(2026, 6, 10)
    with tenant_context(tenant):
        # Straight through: first pass at every step, completed at the last.
        _log(first, "advance", s1, s2, d, 8, "pending")
        _log(first, "advance", s2, s3, d, 9)
        _log(first, "complete", s3, s3, d, 10, to_status="completed")
        # Quarantined at s1, then (after a disposition) advanced: not first pass at s1, first pass at s2.
        _log(quarantined, "quarantine", s1, s1, d, 8, "pending", "quarantined")
        _log(quarantined, "advance", s1, s2, d, 11)
        _log(quarantined, "advance", s2, s3, d, 12)
        # Held at s1, released, advanced: not first pass at s1.
        _log(held, "hold", s1, s1, d, 8, "pending", "on_hold")
        _log(held, "release", s1, s1, d, 9, "on_hold", "pending")
        _log(held, "advance", s1, s2, d, 10, "pending")
        # Scrapped at s2 after passing s1.
        _log(scrapped, "advance", s1, s2, d, 8, "pending")
        _log(scrapped, "scrap", s2, s2, d, 9, to_status="scrapped")
        # Sent back from s2 to s1 by a rework, then through s1 again: s1 counted once (a first pass),
        # s2 not first pass (its first departure is the rework).
        _log(reworked, "advance", s1, s2, d, 8, "pending")
        _log(reworked, "rework", s2, s1, d, 9)
        _log(reworked, "advance", s1, s2, d, 10)
        _log(reworked, "advance", s2, s3, d, 11)
        # Left s1 first before the period: only its later departures fall in it, so s1 does not count it.
        _log(early, "quarantine", s1, s1, date(2026, 5, 1), 8, "pending", "quarantined")
        _log(early, "advance", s1, s2, d, 8)
        fpy = first_pass_yield(filters=analytics_filters({"from": "2026-06-01", "to": "2026-06-30"}, today=TODAY))
    got = {r["step"]: (r["parts"], r["first_pass"], r["not_first_pass"], r["yield_percent"]) for r in fpy["steps"]}
    assert got == {
        s1.pk: (5, 3, 2, 60.0),    # first, scrapped, reworked pass; quarantined, held do not
        s2.pk: (4, 2, 2, 50.0),    # first, quarantined pass; scrapped, reworked do not; held, early wait
        s3.pk: (1, 1, 0, 100.0),   # first completed; the others still wait at s3
    }
    assert [r["step"] for r in fpy["steps"]] == [s1.pk, s2.pk, s3.pk]
    assert (fpy["attempts"], fpy["first_pass"], fpy["yield_percent"]) == (10, 6, 60.0)
    with tenant_context(tenant):
        only = first_pass_yield(filters=analytics_filters({"from": "2026-06-01", "to": "2026-06-30", "step": s2.pk}))
        before = first_pass_yield(filters=analytics_filters({"from": "2026-05-01", "to": "2026-05-31"}))
    assert [r["step"] for r in only["steps"]] == [s2.pk]
    assert [(r["step"], r["parts"], r["first_pass"]) for r in before["steps"]] == [(s1.pk, 1, 0)]
    assert before["filters"] == {"from": date(2026, 5, 1), "to": date(2026, 5, 31), "step": None}


def test_first_pass_yield_from_the_travelers_own_log(tenant):
    """The log the traveler writes: an out-of-spec advance quarantines at the step, a hold and release
    stay at it; only a clean advance is a first pass."""
    parts, (s1, s2, _) = _parts(tenant, 3)
    good, bad, paused = parts
    with tenant_context(tenant):
        part_advance(part=good, step=s1.pk, measurements=good_readings(s1))
        readings = good_readings(s1)
        readings[0]["value"] = "6.5"
        assert part_advance(part=bad, step=s1.pk, measurements=readings)["result"] == "quarantined"
        part_hold(part=paused, reason="gauge check")
        part_release(part=paused, reason="gauge fine")
        part_advance(part=paused, step=s1.pk, measurements=good_readings(s1))
        fpy = first_pass_yield(filters=analytics_filters({}))
    assert [(r["step"], r["parts"], r["first_pass"], r["yield_percent"]) for r in fpy["steps"]] == [
        (s1.pk, 3, 1, 33.3)]


def test_first_pass_yield_matches_the_definition_on_a_random_log(tenant):
    """A log with equal times (the lower id leaves first), repeats, departures before, in and after the
    period and other actions, against the definition computed here row by row; with and without the
    step filter."""
    import random

    rng = random.Random(12)
    parts, steps = _parts(tenant, 20)
    actions = ["advance", "advance", "advance", "complete", "quarantine", "hold", "scrap", "rework"]
    rows = []
    with tenant_context(tenant):
        for part in parts:
            for _ in range(rng.randint(0, 7)):
                at = _at(date(2026, 6, rng.choice([3, 5, 5, 5, 7])), 8)  # many equal times
                rows.append(StepTransitionLog.objects.create(
                    part=part, action=rng.choice(actions), from_step=rng.choice([*steps, None]), to_step=steps[0],
                    from_status="in_process", to_status="in_process", transition_time=at))
        for n, part in enumerate(parts[:6]):  # two departures at the same time: the first written counts
            for action in ("quarantine", "advance"):
                rows.append(StepTransitionLog.objects.create(
                    part=part, action=action, from_step=steps[n % 3], to_step=steps[0], from_status="in_process",
                    to_status="in_process", transition_time=_at(date(2026, 6, 5), 7)))
        filters = {"from": "2026-06-04", "to": "2026-06-06"}
        got = first_pass_yield(filters=analytics_filters(filters))
        only = first_pass_yield(filters=analytics_filters({**filters, "step": steps[1].pk}))
    start, end = _at(date(2026, 6, 4), 0), _at(date(2026, 6, 7), 0)
    first: dict = {}
    for r in sorted(rows, key=lambda r: (r.transition_time, r.pk)):
        if r.from_step_id is not None:
            first.setdefault((r.part_id, r.from_step_id), r)
    expected: dict = {}
    for (_, step), r in first.items():
        if start <= r.transition_time < end:
            n, passed = expected.get(step, (0, 0))
            expected[step] = (n + 1, passed + (r.action in ("advance", "complete")))
    assert len(expected) == 3 and sum(n for n, _ in expected.values()) >= 15  # the data has real work
    assert {r["step"]: (r["parts"], r["first_pass"]) for r in got["steps"]} == expected
    assert [(r["step"], r["parts"], r["first_pass"]) for r in only["steps"]] == [
        (steps[1].pk, *expected[steps[1].pk])]

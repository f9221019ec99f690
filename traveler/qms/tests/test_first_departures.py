"""The first departures quality keeps (FirstDeparture, filled by the trigger of migration 0007) stay
equal to the definition computed from the transition log, whichever way the log is written: the
traveler's services (single and bulk advance, quarantine, hold and release, rework and a second pass),
back-dated rows, updates and deletes of log rows; a rolled-back advance leaves nothing; the backfill
gives the same rows."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import Part, StepTransitionLog
from traveler.mes_lite.services.parts import (
    part_advance,
    part_hold,
    part_release,
    part_rework,
    parts_advance_bulk,
)
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order
from traveler.qms.models import FirstDeparture, FirstPassCount
from traveler.qms.services.analytics import FIRST_PASS_ACTIONS, analytics_filters, first_pass_yield

pytestmark = pytest.mark.django_db(transaction=False)


def _definition() -> dict:
    """(step, part) -> (log row, time, action) of the first log row leaving the step, by time then id."""
    first: dict = {}
    for r in StepTransitionLog.objects.filter(from_step__isnull=False).order_by("transition_time", "pk"):
        first.setdefault((r.from_step_id, r.part_id), (r.pk, r.transition_time, r.action))
    return first


def _kept() -> dict:
    """The first departures kept, after checking that the hourly counts add them up exactly."""
    kept = {(f.step_id, f.part_id): (f.log_id, f.departed_at, f.action) for f in FirstDeparture.objects.all()}
    expected: dict = {}
    for (step, _), (_, at, action) in kept.items():
        n, p = expected.get((step, at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)), (0, 0))
        expected[(step, at.astimezone(UTC).replace(minute=0, second=0, microsecond=0))] = (
            n + 1, p + (action in FIRST_PASS_ACTIONS))
    counted = {(c.step_id, c.hour): (c.parts, c.passed) for c in FirstPassCount.objects.all() if c.parts or c.passed}
    assert counted == expected
    return kept


def _bad(step):
    readings = good_readings(step)
    readings[0]["value"] = "6.5"  # out of specification at the first step's first definition
    return readings


class Rollback(Exception):
    pass


def test_the_travelers_services_keep_the_table_equal_to_the_definition(tenant):
    wo = make_work_order(tenant, quantity=6)
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
        s1, s2, s3 = route_steps(wo.process)
        a, b, c, d, held, untouched = parts
        out = parts_advance_bulk(work_order=wo, step=s1.pk, parts=[
            {"part": a.pk, "measurements": good_readings(s1)}, {"part": b.pk, "measurements": good_readings(s1)},
            {"part": c.pk, "measurements": good_readings(s1)}, {"part": d.pk, "measurements": _bad(s1)}])
        assert out == {"advanced": 3, "completed": 0, "quarantined": 1}
        assert _kept() == _definition() and len(_kept()) == 4
        # d: quarantined at s1, sent back to s1 for rework, passes s1 the second time, then s2.
        d.refresh_from_db()
        part_rework(part=d, to_step=s1, reason="Regrind the bore")
        part_advance(part=d, step=s1.pk, measurements=good_readings(s1))
        part_hold(part=held, reason="Gauge check")
        part_release(part=held, reason="Gauge fine")
        part_advance(part=held, step=s1.pk, measurements=good_readings(s1))
        parts_advance_bulk(work_order=wo, step=s2.pk, parts=[
            {"part": p.pk, "measurements": good_readings(s2)} for p in (a, b, c, d)])
        parts_advance_bulk(work_order=wo, step=s3.pk, parts=[
            {"part": p.pk, "measurements": good_readings(s3)} for p in (a, b)])
        # A rolled-back advance writes neither a log row nor a first departure.
        before = _kept()
        with pytest.raises(Rollback), transaction.atomic():
            part_advance(part=untouched, step=s1.pk, measurements=good_readings(s1))
            assert (s1.pk, untouched.pk) in _kept()  # seen inside the advance's transaction
            raise Rollback
        kept = _kept()
        assert kept == before == _definition()
        assert not StepTransitionLog.objects.filter(part=untouched).exists()
        actions = {k: v[2] for k, v in kept.items()}
        assert actions[(s1.pk, d.pk)] == "quarantine"  # the rework and the second pass do not replace it
        assert actions[(s1.pk, held.pk)] == "hold" and actions[(s3.pk, a.pk)] == "complete"
        assert StepTransitionLog.objects.filter(part=d, from_step=s1).count() == 3
        assert len(kept) == 5 + 4 + 2 and (s2.pk, held.pk) not in kept
        fpy = first_pass_yield(filters=analytics_filters({}))
    assert [(r["step"], r["parts"], r["first_pass"]) for r in fpy["steps"]] == [
        (s1.pk, 5, 3), (s2.pk, 4, 4), (s3.pk, 2, 2)]


def test_back_dated_updated_and_deleted_log_rows(tenant):
    wo = make_work_order(tenant, quantity=2)
    with tenant_context(tenant):
        p, q = Part.objects.filter(work_order=wo).order_by("serial_number")
        s1, s2, _ = route_steps(wo.process)
        now = timezone.now()

        def log(part, action, step, at):
            return StepTransitionLog.objects.create(part=part, action=action, from_step=step, to_step=s2,
                                                    from_status="in_process", to_status="in_process", transition_time=at)

        later = log(p, "advance", s1, now)
        assert _kept()[(s1.pk, p.pk)] == (later.pk, now, "advance")
        earlier = log(p, "quarantine", s1, now - timedelta(hours=1))  # an import's back-dated row
        assert _kept()[(s1.pk, p.pk)] == (earlier.pk, now - timedelta(hours=1), "quarantine")
        tie = log(p, "hold", s1, now - timedelta(hours=1))  # same time, higher id: the earlier row stays first
        assert _kept() == _definition()
        # Several rows of one (step, part) in one statement: the first of them.
        StepTransitionLog.objects.bulk_create([
            StepTransitionLog(part=q, action=a, from_step=s1, to_step=s2, from_status="in_process",
                              to_status="in_process", transition_time=now + timedelta(minutes=m))
            for a, m in (("advance", 5), ("scrap", 2), ("hold", 9))])
        assert _kept()[(s1.pk, q.pk)][2] == "scrap" and _kept() == _definition()
        # A script moves or rewrites log rows: the (step, part)s concerned are found again.
        StepTransitionLog.objects.filter(pk=earlier.pk).update(transition_time=now + timedelta(hours=1))
        assert _kept()[(s1.pk, p.pk)][0] == tie.pk and _kept() == _definition()
        StepTransitionLog.objects.filter(pk=tie.pk).update(from_step=s2)
        assert _kept()[(s1.pk, p.pk)][0] == later.pk and _kept()[(s2.pk, p.pk)][0] == tie.pk
        StepTransitionLog.objects.filter(part=p).update(note="checked")  # no departure changed
        assert _kept() == _definition()
        FirstDeparture.objects.filter(log_id=tie.pk).delete()
        StepTransitionLog.objects.filter(pk=tie.pk).delete()
        assert (s2.pk, p.pk) not in _kept() and _kept() == _definition()
        assert len(_kept()) == 2


def test_the_backfill_gives_the_rows_the_trigger_keeps(tenant):
    wo = make_work_order(tenant, quantity=4)
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
        s1, s2, _ = route_steps(wo.process)
        parts_advance_bulk(work_order=wo, step=s1.pk, parts=[
            {"part": p.pk, "measurements": _bad(s1) if n == 0 else good_readings(s1)} for n, p in enumerate(parts)])
        parts_advance_bulk(work_order=wo, step=s2.pk, parts=[
            {"part": p.pk, "measurements": good_readings(s2)} for p in parts[1:]])
        kept = _kept()
        assert len(kept) == 7
        FirstDeparture.objects.all().delete()
        assert not FirstPassCount.objects.exclude(parts=0, passed=0).exists()  # the counts followed
        migration = importlib.import_module("traveler.qms.migrations.0007_first_departures")
        with connection.cursor() as cursor:
            cursor.execute(migration.BACKFILL)  # here under row-level security: this tenant's rows only
        assert _kept() == kept == _definition()


def test_the_counts_pass_the_services_actions():
    migration = importlib.import_module("traveler.qms.migrations.0007_first_departures")
    actions = "action IN (" + ", ".join(f"'{a}'" for a in FIRST_PASS_ACTIONS) + ")"
    assert migration.COUNTS.count(actions) == 4  # inserted; replaced (old, new); removed


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu"])
def test_first_pass_yield_over_whole_and_part_hours_matches_the_log(tenant, zone, settings):
    """Periods whose ends are whole UTC hours and periods that are not (UTC+5:30, +5:45): the counts
    of the whole hours plus the first departures at the ends give the definition's figures."""
    import random

    from django.utils import timezone as tz

    rng = random.Random(7)
    wo = make_work_order(tenant, quantity=12)
    with tenant_context(tenant), tz.override(ZoneInfo(zone)):
        parts = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
        steps = route_steps(wo.process)
        base = datetime(2026, 6, 4, 0, 0, tzinfo=UTC) - timedelta(hours=6)
        for part in parts:
            for _ in range(6):
                StepTransitionLog.objects.create(
                    part=part, action=rng.choice(["advance", "complete", "quarantine", "hold"]),
                    from_step=rng.choice(steps), to_step=steps[0], from_status="in_process", to_status="in_process",
                    transition_time=base + timedelta(minutes=rng.randrange(0, 4 * 24 * 60, 5)))
        kept = _kept()
        for first, last in ((date(2026, 6, 4), date(2026, 6, 4)), (date(2026, 6, 3), date(2026, 6, 5)),
                            (date(2026, 6, 5), date(2026, 6, 6))):
            start = datetime.combine(first, datetime.min.time(), tzinfo=ZoneInfo(zone))
            end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(zone))
            expected: dict = {}
            for (step, _), (_, at, action) in kept.items():
                if start <= at < end:
                    n, p = expected.get(step, (0, 0))
                    expected[step] = (n + 1, p + (action in FIRST_PASS_ACTIONS))
            got = first_pass_yield(filters=analytics_filters({"from": first.isoformat(), "to": last.isoformat()}))
            assert {r["step"]: (r["parts"], r["first_pass"]) for r in got["steps"]} == expected
            assert sum(n for n, _ in expected.values()) >= 5
            one = first_pass_yield(filters=analytics_filters({"from": first.isoformat(), "to": last.isoformat(),
                                                              "step": steps[1].pk}))
            assert [(r["step"], r["parts"], r["first_pass"]) for r in one["steps"]] == (
                [(steps[1].pk, *expected[steps[1].pk])] if steps[1].pk in expected else [])

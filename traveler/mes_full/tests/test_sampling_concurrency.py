"""Two advances into a sampled step at once, on two connections: the fallback's last part is taken once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.models import SamplingAuditLog, SamplingTriggerState
from traveler.mes_full.services.requirements import inspection_record
from traveler.mes_full.services.sampling import decisions_at_arrival
from traveler.mes_full.tests.factories import make_ruleset
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_process, make_work_order


def _one_fallback_part_left(tenant):
    """A rule set at the second step whose fallback has one part left after a defect on part 5."""
    process = make_process(tenant)
    rs = make_ruleset(tenant, process=process, step=2, fallback_parts=1,
                      rules=[{"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}])
    wo = make_work_order(tenant, process=process, quantity=10)
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant):
        first, second, _ = route_steps(process)
        ps = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        readings = good_readings(first)
        parts_advance_bulk(work_order=wo, step=first.pk, parts=[{"part": p.pk, "measurements": readings} for p in ps[:5]])
    with tenant_context(tenant, actor=inspector):
        inspection_record(part=Part.objects.get(pk=ps[4].pk), passed=False, user=inspector, password=PASSWORD,
                          note="Leak above the limit")
    with tenant_context(tenant):
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
        assert (state.fallback_active, state.parts_remaining) == (True, 1)
    return rs, wo, ps, second


def _wait_until_blocked_by_me(seen: list) -> None:
    deadline = time.monotonic() + 10
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
            if cur.fetchone()[0]:
                seen.append(True)
                return
            time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_the_trigger_state_lock_serialises_two_decisions(tenant):
    """The decision service itself, on two connections: the first decides (taking the fallback's last
    part) and keeps its transaction open until the second is seen waiting; the second, waiting on the
    trigger state's row lock before it reads the state, then decides with the primary rules. (Through
    the advance, the audit trail's per-tenant chain also serialises two writers; here the second
    reaches the lock before it writes anything.)"""
    rs, wo, ps, second = _one_fallback_part_left(tenant)
    seen: list[bool] = []
    errors: list[BaseException] = []
    decided = threading.Event()

    def first_one():
        try:
            with tenant_context(tenant), transaction.atomic():
                decisions_at_arrival([(Part.objects.get(pk=ps[5].pk), second.pk)])
                decided.set()
                _wait_until_blocked_by_me(seen)
        except BaseException as exc:
            errors.append(exc)
        finally:
            decided.set()
            connection.close()

    def second_one():
        try:
            decided.wait(10)
            with tenant_context(tenant), transaction.atomic():
                decisions_at_arrival([(Part.objects.get(pk=ps[6].pk), second.pk)])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_one), threading.Thread(target=second_one)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert seen == [True]
    with tenant_context(tenant):
        rows = dict(SamplingAuditLog.objects.filter(work_order=wo, step=second, position__in=[6, 7])
                    .values_list("position", "mode"))
    assert rows == {6: "fallback", 7: "primary"}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advances_do_not_both_take_the_last_fallback_part(tenant):
    """The fallback has one part left. Two operators advance parts 6 and 7 into the sampled step at
    the same moment: the first to lock the work order's trigger state takes the fallback part and holds
    the lock (in a recorder after the decision, inside its transaction) until PostgreSQL shows the other
    one waiting for it; the other then decides with the primary rules."""
    rs, wo, ps, second = _one_fallback_part_left(tenant)
    operators = [make_member(tenant, roles=["operator"]) for _ in range(2)]
    with tenant_context(tenant):
        first = route_steps(wo.process)[0]
        readings = good_readings(first)

    barrier = threading.Barrier(2, timeout=10)
    holder = threading.Lock()
    seen_waiting: list[bool] = []
    errors: list[BaseException] = []

    def hold_until_the_other_waits(**context):
        if not holder.acquire(blocking=False):
            return
        deadline = time.monotonic() + 10
        with connection.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT pg_stat_clear_snapshot()")
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
                if cur.fetchone()[0]:
                    seen_waiting.append(True)
                    break
                time.sleep(0.02)

    def operator(user, part):
        try:
            with tenant_context(tenant, actor=user):
                barrier.wait()
                part_advance(part=Part.objects.get(pk=part.pk), step=first.pk, measurements=readings)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    registry.recorders["mes.part.advance"].append(hold_until_the_other_waits)
    try:
        threads = [threading.Thread(target=operator, args=(u, p)) for u, p in zip(operators, ps[5:7], strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), "an advance did not finish within 30 s"
    finally:
        registry.recorders["mes.part.advance"].remove(hold_until_the_other_waits)
    assert errors == []
    assert seen_waiting == [True], "the second advance was never seen waiting on the first"
    with tenant_context(tenant):
        rows = list(SamplingAuditLog.objects.filter(work_order=wo, step=second, position__in=[6, 7])
                    .values_list("mode", "selected"))
        state = SamplingTriggerState.objects.get(ruleset=rs, work_order=wo)
    assert sorted(rows) == [("fallback", True), ("primary", False)]
    assert (state.fallback_active, state.parts_remaining) == (False, None)

"""Two advances into a sampled step at once, on two connections: the fallback's last part is taken once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.models import SamplingAuditLog, SamplingTriggerState
from traveler.mes_full.services.requirements import inspection_record
from traveler.mes_full.tests.factories import make_ruleset
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_process, make_work_order


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advances_do_not_both_take_the_last_fallback_part(tenant):
    """The fallback has one part left. Two operators advance parts 6 and 7 into the sampled step at
    the same moment: the first to lock the work order's trigger state takes the fallback part and holds
    the lock (in a recorder after the decision, inside its transaction) until PostgreSQL shows the other
    one waiting for it; the other then decides with the primary rules."""
    process = make_process(tenant)
    rs = make_ruleset(tenant, process=process, step=2, fallback_parts=1,
                      rules=[{"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}])
    wo = make_work_order(tenant, process=process, quantity=10)
    inspector = make_member(tenant, roles=["qa_inspector"])
    operators = [make_member(tenant, roles=["operator"]) for _ in range(2)]
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

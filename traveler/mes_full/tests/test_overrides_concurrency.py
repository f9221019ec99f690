"""N parts means N under concurrency: an override for one more part, two operators advancing two
parts at once; the override's row lock lets exactly one through."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from traveler.core.errors import Conflict
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
from traveler.mes_full.choices import BlockKind, OverrideLimit, OverrideStatus, RequirementKind
from traveler.mes_full.models import StepOverride, StepOverrideUse
from traveler.mes_full.services.overrides import override_approve, override_request
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        tenant = make_tenant("Override Race")
        users = [make_member(tenant, roles=["operator"]) for _ in range(2)]
        qa = make_member(tenant, roles=["qa_manager"])
        wo = make_work_order(tenant, quantity=3)
        with tenant_context(tenant, actor=users[0]):
            step = route_steps(wo.process)[0]
            requirement_create(data={"step": step, "kind": RequirementKind.INSPECTION})
            parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
            o = override_request(part=parts[0], block_kind=BlockKind.MISSING_INSPECTION, reason="Inspector away",
                                 user=users[0], limit=OverrideLimit.PARTS, max_parts=1)
        with tenant_context(tenant, actor=qa):
            override_approve(override=o, user=qa, password=PASSWORD)
        yield tenant, users, step, parts, o
        connection.close()


def test_an_override_for_one_part_lets_one_of_two_concurrent_advances_through(committed, django_db_blocker):
    tenant, users, step, parts, o = committed
    with django_db_blocker.unblock(), tenant_context(tenant):
        readings = good_readings(step)
    barrier = threading.Barrier(2)
    results: list = []

    def operator(user, part):
        with django_db_blocker.unblock():
            try:
                with tenant_context(tenant, actor=user):
                    barrier.wait(timeout=10)
                    part.refresh_from_db()
                    results.append(part_advance(part=part, step=step.pk, measurements=readings)["result"])
            except Conflict as exc:
                results.append(exc.code)
            finally:
                connection.close()

    threads = [threading.Thread(target=operator, args=(u, p)) for u, p in zip(users, parts[1:], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["advanced", "blocked"], results
    with django_db_blocker.unblock(), tenant_context(tenant):
        row = StepOverride.objects.get(pk=o.pk)
        assert (row.uses, row.override_status) == (1, OverrideStatus.EXPIRED)
        assert StepOverrideUse.objects.filter(override=o).count() == 1

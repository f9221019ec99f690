"""Two first parts at once: two operators advance two inspected parts of a new scope at the same
moment; one of them is designated, both pass (the first piece passed), one record."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
from traveler.mes_full.choices import FPIStatus
from traveler.mes_full.models import FPIRecord
from traveler.mes_full.services.requirements import inspection_record
from traveler.mes_full.tests.factories import fpi_line
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.tests.factories import good_readings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        tenant = make_tenant("First Piece Race")
        users = [make_member(tenant, roles=["operator"]) for _ in range(2)]
        qa = make_member(tenant, roles=["qa_inspector"])
        wo, step, parts = fpi_line(tenant, quantity=2)
        for p in parts:
            with tenant_context(tenant, actor=qa):
                inspection_record(part=p, passed=True, user=qa, password=PASSWORD)
        yield tenant, users, step, parts
        connection.close()


def test_two_first_parts_at_once_one_designated(committed, django_db_blocker):
    tenant, users, step, parts = committed
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
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                results.append(repr(exc))
            finally:
                connection.close()

    threads = [threading.Thread(target=operator, args=(u, p)) for u, p in zip(users, parts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["advanced", "advanced"], results
    with django_db_blocker.unblock(), tenant_context(tenant):
        records = list(FPIRecord.objects.filter(step=step))
    assert len(records) == 1 and records[0].fpi_status == FPIStatus.PASSED
    assert records[0].part_id in {p.pk for p in parts}

"""``insert_rows``: many rows in one INSERT, under the same walls as any other write."""

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from traveler.core.bulk import insert_rows
from traveler.core.models import Company, History, OutboxEvent
from traveler.core.tenancy import tenant_context


def _companies(names, tenant_id, now, **columns):
    return insert_rows(Company, {"name": names, **columns},
                       same={"tenant": tenant_id, "created_at": now, "updated_at": now, "version": 1},
                       returning=("name", "pk"))


def test_rows_are_written_with_shared_values_and_returned_by_key(tenant, admin):
    now = timezone.now()
    with tenant_context(tenant, actor=admin), transaction.atomic():
        ids = dict(_companies(["Bosch", "Denso", "Delphi"], tenant.pk, now,
                              kind=["supplier", "customer", "customer"], description=["", "", "rail 'pumps' \"x\""]))
        got = {c.name: c for c in Company.objects.filter(pk__in=ids.values())}
    assert {n: c.pk for n, c in got.items()} == ids
    assert got["Bosch"].kind == "supplier" and got["Delphi"].description == "rail 'pumps' \"x\""
    assert all(c.tenant_id == tenant.pk and c.version == 1 and c.created_at == now for c in got.values())


def test_each_row_gets_its_history_row(tenant, admin):
    now = timezone.now()
    with tenant_context(tenant, actor=admin), transaction.atomic():
        ids = dict(_companies(["Stanadyne", "Woodward"], tenant.pk, now, kind=["supplier", "supplier"],
                              description=["", ""]))
        history = History.objects.filter(table_name=Company._meta.db_table, record_id__in=[str(i) for i in ids.values()])
        assert sorted((h.record_id, h.action, h.actor_id) for h in history) == sorted(
            (str(i), "I", admin.pk) for i in ids.values())


def test_row_level_security_refuses_rows_of_another_tenant(tenant, other_tenant):
    now = timezone.now()
    with tenant_context(tenant), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        _companies(["Sneaky"], other_tenant.pk, now, kind=["customer"], description=[""])
    with tenant_context(other_tenant):
        assert not Company.objects.filter(name="Sneaky").exists()


def test_json_columns_and_shared_json_values_round_trip(tenant):
    now = timezone.now()
    payloads = [{"part_id": 7, "serial": "INJ-0001", "readings": [6.004, None], "ok": True}, {"nested": {"a": "ü"}}]
    with tenant_context(tenant), transaction.atomic():
        rows = insert_rows(OutboxEvent, {"name": ["mes.part.advanced", "mes.part.held"], "payload": payloads},
                           same={"tenant_id": tenant.pk, "actor_id": None, "occurred_at": now},
                           returning=("pk", "name", "payload"))
        # Returned decoded, as the ORM reads them.
        assert {name: payload for _, name, payload in rows} == dict(
            zip(["mes.part.advanced", "mes.part.held"], payloads, strict=True))
        events = OutboxEvent.objects.filter(pk__in=[r[0] for r in rows]).order_by("name")
        assert [(e.name, e.payload, e.occurred_at) for e in events] == [
            ("mes.part.advanced", payloads[0], now), ("mes.part.held", payloads[1], now)]


def test_nothing_to_insert_and_columns_of_different_lengths(tenant):
    with tenant_context(tenant):
        assert insert_rows(Company, {"name": []}) == []
        with pytest.raises(ValueError, match="different lengths"):
            insert_rows(Company, {"name": ["A", "B"], "kind": ["customer"]})

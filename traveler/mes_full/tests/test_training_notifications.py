"""Expiring training: the list of records to renew, and notices to holders and their managers once per
record and threshold (30 days, 7 days, expired), however often the daily job runs."""

from __future__ import annotations

from datetime import date, timedelta

from traveler.core.models import Notification
from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_full.services.training import training_expiring, training_expiry_notify
from traveler.mes_full.tests.factories_training import make_training_record, make_training_type

TODAY = date.today()
DAY = TODAY + timedelta(days=200)  # the job's "today" in these tests


def _notices(tenant, *users):
    with tenant_context(tenant):
        return sorted(Notification.objects.filter(recipient__in=users, kind="mes_full.training.expiring")
                      .values_list("recipient_id", "title", "dedupe_key"))


def test_holders_and_managers_are_told_once_per_threshold(tenant):
    holder = make_member(tenant, roles=["operator"], full_name="Olga Operator")
    manager = make_member(tenant, roles=["production_manager"], full_name="Max Manager")
    bystander = make_member(tenant, roles=["qa_inspector"])
    torque = make_training_type(tenant, name="Torque wrench use")
    record = make_training_record(tenant, user=holder, training_type=torque, expires_on=DAY + timedelta(days=30))
    with tenant_context(tenant):
        assert training_expiry_notify(today=DAY - timedelta(days=1)) == 0  # 31 days left: nothing yet
        first = training_expiry_notify(today=DAY)
        again = [training_expiry_notify(today=DAY), training_expiry_notify(today=DAY + timedelta(days=5))]
    title = "Training expiring: Torque wrench use of Olga Operator"
    key = f"mes_full.training:{record.pk}:30d"
    assert _notices(tenant, holder, manager, bystander) == sorted([(holder.pk, title, key), (manager.pk, title, key)])
    assert first >= 2 and again == [0, 0]
    with tenant_context(tenant):
        training_expiry_notify(today=DAY + timedelta(days=23))  # 7 days left
        training_expiry_notify(today=DAY + timedelta(days=24))
        training_expiry_notify(today=DAY + timedelta(days=31))  # expired yesterday
        training_expiry_notify(today=DAY + timedelta(days=32))
    keys = sorted(k for u, _, k in _notices(tenant, holder) if u == holder.pk)
    assert keys == sorted([key, f"mes_full.training:{record.pk}:7d", f"mes_full.training:{record.pk}:expired"])


def test_a_renewed_record_is_neither_listed_nor_notified(tenant):
    holder = make_member(tenant, roles=["operator"])
    torque = make_training_type(tenant)
    old = make_training_record(tenant, user=holder, training_type=torque, expires_on=DAY + timedelta(days=10))
    soon_other = make_training_record(tenant, training_type=torque, expires_on=DAY + timedelta(days=20))
    with tenant_context(tenant):
        assert [r.pk for r in training_expiring(today=DAY)] == [old.pk, soon_other.pk]
    make_training_record(tenant, user=holder, training_type=torque, expires_on=DAY + timedelta(days=400))
    with tenant_context(tenant):
        assert [r.pk for r in training_expiring(today=DAY)] == [soon_other.pk]
        training_expiry_notify(today=DAY)
    assert _notices(tenant, holder) == []


def test_the_daily_job_is_registered():
    spec = registry.jobs["mes_full.training_expiry"]
    assert spec.every_seconds == 24 * 3600 and registry.notification_kinds["mes_full.training.expiring"]


def test_the_daily_job_notifies_in_each_tenant(tenant, other_tenant):
    from traveler.mes_full.jobs import training_expiry

    holder = make_member(tenant, roles=["operator"])
    record = make_training_record(tenant, user=holder, expires_on=TODAY + timedelta(days=6))
    training_expiry()
    training_expiry()
    assert [k for _, _, k in _notices(tenant, holder)] == [f"mes_full.training:{record.pk}:7d"]

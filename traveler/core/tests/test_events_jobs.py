"""Domain events (outbox, after-commit delivery, durable handlers) and the job queue."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from traveler.core.eventbus import Event, event_type, publish, subscribe
from traveler.core.models import Job, OutboxEvent, PeriodicSchedule
from traveler.core.queue import enqueue, job, retry_job, run_pending, schedule_periodic
from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context


@event_type
@dataclass(frozen=True)
class WidgetPolished(Event):
    name = "core.widget.polished"
    widget_id: int


received: list = []
durable_calls: list = []
flaky = {"fail_times": 0}


@subscribe("core.widget.polished")
def _inline(event):
    received.append(("inline", event.name, event.payload["widget_id"]))


@subscribe("core.widget.*", durable=True, max_attempts=3)
def _durable(event):
    durable_calls.append(event.payload["widget_id"])
    if flaky["fail_times"] > 0:
        flaky["fail_times"] -= 1
        raise RuntimeError("printer on fire")


@pytest.fixture(autouse=True)
def _reset():
    received.clear()
    durable_calls.clear()
    flaky["fail_times"] = 0
    yield
    flaky["fail_times"] = 0


def test_event_names_must_follow_the_convention():
    with pytest.raises(ValueError, match="module"):
        @event_type
        @dataclass(frozen=True)
        class Bad(Event):
            name = "WidgetPolished"


def test_event_is_written_to_outbox_and_delivered_once_after_commit(tenant, django_capture_on_commit_callbacks):
    with tenant_context(tenant):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            event_id = publish(WidgetPolished(widget_id=7))
            assert received == []  # nothing before commit
        assert received == [("inline", "core.widget.polished", 7)]
        assert len([c for c in callbacks]) >= 1
        row = OutboxEvent.objects.get(pk=event_id)
        assert row.name == "core.widget.polished" and row.payload == {"widget_id": 7}
        assert row.tenant_id == tenant.pk
        jobs = Job.objects.filter(name="core.deliver_event", args__event_id=event_id)
        assert jobs.count() == 1
        run_pending()
        assert Job.objects.get(pk=jobs.get().pk).status == Job.Status.SUCCEEDED
    assert durable_calls == [7]


def test_no_delivery_after_rollback(tenant, django_capture_on_commit_callbacks):
    with tenant_context(tenant):
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                event_id = publish(WidgetPolished(widget_id=8))
                raise RuntimeError("the change failed")
        assert received == []
        assert not OutboxEvent.objects.filter(pk=event_id).exists()
        assert not Job.objects.filter(args__event_id=event_id).exists()
        run_pending()
    assert durable_calls == []


@override_settings(TRAVELER_JOB_RETRY_BASE_SECONDS=0)
def test_durable_handler_retries_then_succeeds(tenant):
    flaky["fail_times"] = 2
    with tenant_context(tenant):
        event_id = publish(WidgetPolished(widget_id=9))
        run_pending()
        row = Job.objects.get(args__event_id=event_id)
    assert durable_calls == [9, 9, 9]
    assert row.status == Job.Status.SUCCEEDED and row.attempts == 3


@override_settings(TRAVELER_JOB_RETRY_BASE_SECONDS=0)
def test_durable_handler_dead_letter_and_admin_retry(tenant):
    flaky["fail_times"] = 10
    with tenant_context(tenant):
        event_id = publish(WidgetPolished(widget_id=10))
        run_pending()
        row = Job.objects.get(args__event_id=event_id)
        assert row.status == Job.Status.DEAD and row.attempts == 3
        assert "printer on fire" in row.last_error
        flaky["fail_times"] = 0
        retry_job(row.pk)
        run_pending()
        row.refresh_from_db()
    assert row.status == Job.Status.SUCCEEDED
    assert durable_calls == [10, 10, 10, 10]


def test_retry_backs_off(tenant):
    flaky["fail_times"] = 1
    with tenant_context(tenant):
        event_id = publish(WidgetPolished(widget_id=11))
        assert run_pending() == 1
        row = Job.objects.get(args__event_id=event_id)
    assert row.status == Job.Status.QUEUED and row.run_at > timezone.now()


calls: list = []


@job("core.test_tick", every=timedelta(minutes=5))
def _tick():
    calls.append("tick")


def test_periodic_jobs_are_queued_once_per_interval(db):
    calls.clear()
    now = timezone.now()
    PeriodicSchedule.objects.filter(name="core.test_tick").delete()
    schedule_periodic(now)
    schedule_periodic(now)  # not due again yet
    assert Job.objects.filter(name="core.test_tick", status="queued").count() == 1
    run_pending()
    assert calls == ["tick"]
    schedule_periodic(now + timedelta(minutes=6))
    assert Job.objects.filter(name="core.test_tick").count() == 2


def test_enqueue_unknown_job_is_refused(db):
    with pytest.raises(LookupError):
        enqueue("core.no_such_job")


def test_job_runs_in_its_tenant(tenant):
    seen = []

    @job("core.test_which_tenant")
    def which():
        from traveler.core.tenancy import current_tenant

        seen.append(current_tenant().pk)

    try:
        enqueue("core.test_which_tenant", tenant=tenant)
        run_pending()
    finally:
        registry.jobs.pop("core.test_which_tenant", None)
    assert seen == [tenant.pk]


def test_publish_many_delivers_each_event(tenant, django_capture_on_commit_callbacks):
    from traveler.core.eventbus import publish_many

    with tenant_context(tenant):
        with django_capture_on_commit_callbacks(execute=True):
            ids = publish_many([WidgetPolished(widget_id=i) for i in (21, 22, 23)])
        assert sorted(OutboxEvent.objects.filter(pk__in=ids).values_list("payload__widget_id", flat=True)) == [21, 22, 23]
        run_pending()
    assert [r[2] for r in received] == [21, 22, 23]
    assert sorted(durable_calls) == [21, 22, 23]


# Leases ---------------------------------------------------------------------------------------------

lease_runs: list = []


@job("core.test_leased", max_attempts=2)
def _leased(*, tag: str):
    lease_runs.append(tag)


def _expire(row_id: int) -> None:
    Job.objects.filter(pk=row_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_a_job_whose_lease_expired_runs_again_as_a_new_attempt(db):
    from traveler.core.queue import _claim

    lease_runs.clear()
    row = enqueue("core.test_leased", args={"tag": "a"})
    claimed = _claim("worker-that-dies")
    assert claimed.pk == row.pk and claimed.lease_expires_at > timezone.now()
    assert run_pending() == 0  # leased to a live worker: not due
    _expire(row.pk)
    assert run_pending() == 1
    row.refresh_from_db()
    assert lease_runs == ["a"]
    assert row.status == Job.Status.SUCCEEDED and row.attempts == 2 and row.lease_expires_at is None


def test_a_job_whose_lease_expired_on_its_last_attempt_is_dead(db):
    from traveler.core.queue import _claim

    lease_runs.clear()
    row = enqueue("core.test_leased", args={"tag": "b"}, max_attempts=1)
    _claim("worker-that-dies")
    _expire(row.pk)
    assert run_pending() == 0
    row.refresh_from_db()
    assert lease_runs == []
    assert row.status == Job.Status.DEAD and row.attempts == 1
    assert "lease of worker worker-that-dies expired" in row.last_error


def test_a_worker_that_lost_the_lease_keeps_none_of_the_work(db):
    """Another worker took the job over (its lease had expired): the late one's work rolls back."""
    from django.db.models import F

    from traveler.core.models import JobEffect
    from traveler.core.queue import once

    @job("core.test_overtaken")
    def overtaken(*, key: str):
        once(key)
        Job.objects.filter(name="core.test_overtaken", status="running").update(
            locked_by="another-worker", attempts=F("attempts") + 1)

    try:
        row = enqueue("core.test_overtaken", args={"key": "overtaken-1"})
        run_pending()
    finally:
        registry.jobs.pop("core.test_overtaken", None)
    row.refresh_from_db()
    assert not JobEffect.objects.filter(key="overtaken-1").exists()
    assert row.status == Job.Status.RUNNING and row.attempts == 1  # left to the worker that holds it


def test_once_records_an_effect_a_single_time(db):
    from traveler.core.models import JobEffect
    from traveler.core.queue import once

    assert once("invoice:42:sent") is True
    assert once("invoice:42:sent") is False
    assert JobEffect.objects.filter(key="invoice:42:sent").count() == 1
    with pytest.raises(ValueError, match="key"):
        once("")


# Retention ------------------------------------------------------------------------------------------

@override_settings(TRAVELER_JOB_RETENTION_DAYS=7, TRAVELER_EVENT_RETENTION_DAYS=30)
def test_purge_forgets_old_succeeded_jobs_and_delivered_events_only(tenant):
    from traveler.core.models import JobEffect
    from traveler.core.queue import once

    assert registry.jobs["core.purge_finished"].every_seconds == 3600
    now = timezone.now()
    with tenant_context(tenant):
        delivered = publish(WidgetPolished(widget_id=31))
        undelivered = publish(WidgetPolished(widget_id=32))
        recent = publish(WidgetPolished(widget_id=33))
        # the deliveries and the events are the tenant's rows
        deliveries = {e: Job.objects.get(name="core.deliver_event", args__event_id=e)
                      for e in (delivered, undelivered, recent)}
        Job.objects.filter(pk__in=[deliveries[delivered].pk, deliveries[recent].pk]).update(
            status=Job.Status.SUCCEEDED, finished_at=now - timedelta(days=8))
        Job.objects.filter(pk=deliveries[recent].pk).update(finished_at=now - timedelta(days=1))
        Job.objects.filter(pk=deliveries[undelivered].pk).update(
            status=Job.Status.DEAD, finished_at=now - timedelta(days=90))
        OutboxEvent.objects.filter(pk__in=[delivered, undelivered]).update(occurred_at=now - timedelta(days=31))
    once("old-effect")
    once("new-effect")
    JobEffect.objects.filter(key="old-effect").update(created_at=now - timedelta(days=8))

    from traveler.core.jobs import purge_finished

    purge_finished()
    with tenant_context(tenant):
        assert not Job.objects.filter(pk=deliveries[delivered].pk).exists()
        assert Job.objects.filter(pk=deliveries[recent].pk).exists()  # inside the retention period
        assert Job.objects.filter(pk=deliveries[undelivered].pk).exists()  # dead: an administrator decides
        assert set(OutboxEvent.objects.filter(pk__in=[delivered, undelivered, recent])
                   .values_list("pk", flat=True)) == {undelivered, recent}
    assert set(JobEffect.objects.filter(key__in=["old-effect", "new-effect"]).values_list("key", flat=True)) == {
        "new-effect"}


def test_purge_deletes_in_batches(db, monkeypatch):
    from traveler.core import jobs as core_jobs

    old = timezone.now() - timedelta(days=400)
    Job.objects.bulk_create([Job(name="core.test_tick", status=Job.Status.SUCCEEDED, run_at=old, finished_at=old)
                             for _ in range(7)])
    monkeypatch.setattr(core_jobs, "PURGE_BATCH", 3)
    core_jobs.purge_finished()
    assert not Job.objects.filter(name="core.test_tick", finished_at=old).exists()

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

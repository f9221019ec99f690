"""Background jobs of the platform."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from traveler.core.eventbus import Delivered, handler_by_name
from traveler.core.queue import job
from traveler.core.tenancy import tenant_context


@job("core.deliver_event", max_attempts=5)
def deliver_event(*, handler: str, event_id: int) -> None:
    """Run one durable handler on one event from the outbox."""
    from traveler.core.models import OutboxEvent

    row = OutboxEvent.objects.get(pk=event_id)
    handler_by_name(handler).func(
        Delivered(row.pk, row.name, row.payload, row.tenant_id, row.actor_id, row.occurred_at)
    )


@job("core.notification_email", max_attempts=8)
def notification_email(*, notification_id: int) -> None:
    """E-mail one notification; a mail server that fails is retried with back-off, then left dead."""
    from traveler.core.services.notifications import notification_email_send

    notification_email_send(notification_id=notification_id)


@job("core.purge_login_attempts", every=timedelta(hours=1))
def purge_login_attempts() -> None:
    """Forget failed sign-in attempts older than a day (lockouts only look back one window), and
    successful ones once they no longer make their address a known client."""
    from traveler.core.models import LoginAttempt

    now = timezone.now()
    LoginAttempt.objects.filter(succeeded=False, at__lt=now - timedelta(days=1)).delete()
    LoginAttempt.objects.filter(
        succeeded=True, at__lt=now - timedelta(days=max(settings.TRAVELER_LOGIN_KNOWN_CLIENT_DAYS, 1))).delete()


PURGE_BATCH = 5000


def _delete_in_batches(sql: str, params: list) -> int:
    """Run a ``DELETE ... WHERE id IN (SELECT id ... LIMIT %s)`` until it deletes nothing; each batch
    commits on its own, so a large backlog never holds one long transaction."""
    total = 0
    while True:
        with connection.cursor() as cur:
            cur.execute(sql, [*params, PURGE_BATCH])
            total += cur.rowcount
            if cur.rowcount < PURGE_BATCH:
                return total


@job("core.purge_finished", every=timedelta(hours=1), atomic=False)
def purge_finished() -> None:
    """Forget succeeded jobs, delivered events and recorded job effects past their retention period.

    Dead jobs stay until an administrator retries them; an event stays while any delivery of it is not
    done (queued, running or dead)."""
    from traveler.core.models import Job, JobEffect, OutboxEvent, Tenant

    now = timezone.now()
    jobs_before = now - timedelta(days=settings.TRAVELER_JOB_RETENTION_DAYS)
    events_before = now - timedelta(days=settings.TRAVELER_EVENT_RETENTION_DAYS)
    job, effect, event = Job._meta.db_table, JobEffect._meta.db_table, OutboxEvent._meta.db_table
    _delete_in_batches(
        f"DELETE FROM {effect} WHERE id IN (SELECT id FROM {effect} WHERE created_at < %s LIMIT %s)",
        [jobs_before])
    # Jobs and events are their tenant's rows: each tenant's are purged in its context, then the
    # platform's own (no tenant).
    for tenant in [*Tenant.objects.all(), None]:
        with tenant_context(tenant):
            _delete_in_batches(
                f"DELETE FROM {job} WHERE id IN (SELECT id FROM {job} WHERE status = 'succeeded' "
                "AND finished_at < %s LIMIT %s)", [jobs_before])
            _delete_in_batches(
                f"DELETE FROM {event} WHERE id IN (SELECT e.id FROM {event} e WHERE e.occurred_at < %s "
                f"AND NOT EXISTS (SELECT 1 FROM {job} j WHERE j.name = 'core.deliver_event' "
                "AND j.status <> 'succeeded' AND ((j.args ->> 'event_id'))::bigint = e.id) LIMIT %s)",
                [events_before])


@job("core.approvals_escalate", every=timedelta(hours=1))
def approvals_escalate() -> None:
    """Remind approvers of overdue requests and tell their requesters: once per day each, however
    often this runs (the notices carry the day in their dedupe key)."""
    from traveler.core.models import Tenant
    from traveler.core.services.approvals import approvals_escalate as escalate

    for tenant in Tenant.objects.filter(is_active=True):
        with tenant_context(tenant):
            escalate()


@job("core.document_review_due", every=timedelta(hours=1))
def document_review_due() -> None:
    """Announce documents due for their periodic review (``core.document.review_due``), in each tenant,
    once per document per day however often the job runs."""
    from traveler.core.models import Tenant
    from traveler.core.services.documents import documents_review_due

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            documents_review_due()

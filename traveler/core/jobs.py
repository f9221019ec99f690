"""Background jobs of the platform."""

from datetime import timedelta

from django.utils import timezone

from traveler.core.eventbus import Delivered, handler_by_name
from traveler.core.queue import job


@job("core.deliver_event", max_attempts=5)
def deliver_event(*, handler: str, event_id: int) -> None:
    """Run one durable handler on one event from the outbox."""
    from traveler.core.models import OutboxEvent

    row = OutboxEvent.objects.get(pk=event_id)
    handler_by_name(handler).func(
        Delivered(row.pk, row.name, row.payload, row.tenant_id, row.actor_id, row.occurred_at)
    )


@job("core.purge_login_attempts", every=timedelta(hours=1))
def purge_login_attempts() -> None:
    """Forget sign-in attempts older than a day; lockouts only look back one window."""
    from traveler.core.models import LoginAttempt

    LoginAttempt.objects.filter(at__lt=timezone.now() - timedelta(days=1)).delete()

"""Notifications: tell users about something, in the app and by e-mail, as each user chose.

A module declares its kinds (``declare_notification_kind`` in its ``notifications.py``) and calls
``notify`` inside the transaction of the change it reports::

    notify(recipients=approvers, kind="core.approval.requested", title=f"Approve {doc.number}",
           url=reverse("dms:document-detail", args=[doc.pk]), dedupe_key=f"approval:{req.pk}:requested")

In-app notices are rows the recipient sees in the bell and the list. E-mails are durable jobs
(``core.notification_email``), queued in the same transaction: a change that rolls back sends
nothing, and a mail server that fails is retried by the queue, never inside the request.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from traveler.core.errors import InvalidInput, NotFound
from traveler.core.models import Membership, Notification, NotificationPreference, User
from traveler.core.queue import enqueue, once
from traveler.core.registry import NOTIFICATION_CHANNELS, NotificationKind, registry
from traveler.core.services.mail import mail_send
from traveler.core.tenancy import current_tenant

EMAIL_JOB = "core.notification_email"


def notification_kind(code: str, *, field: str = "kind") -> NotificationKind:
    kind = registry.notification_kinds.get(code or "")
    if kind is None:
        raise InvalidInput(f"{field}: no notification kind {code!r} is declared.", fields={field: ["unknown kind"]})
    return kind


def _channel(code: str) -> str:
    if code not in NOTIFICATION_CHANNELS:
        raise InvalidInput(f"channel: choose one of {', '.join(NOTIFICATION_CHANNELS)} (not {code!r}).",
                           fields={"channel": ["unknown channel"]})
    return code


def notification_channels(*, users: Iterable[User], kind: NotificationKind) -> dict[int, set[str]]:
    """The channels each of ``users`` receives ``kind`` on in the current tenant: their choices over
    the kind's defaults."""
    ids = [u.pk for u in users]
    channels = {pk: set(kind.default_channels) for pk in ids}
    for user_id, channel, enabled in NotificationPreference.objects.filter(
            kind=kind.code, user_id__in=ids).values_list("user_id", "channel", "enabled"):
        (channels[user_id].add if enabled else channels[user_id].discard)(channel)
    return channels


def _active_recipients(recipients: Iterable[User]) -> list[User]:
    """Those of ``recipients`` who are active members of the current tenant (deactivated users, pending
    invitations and strangers get nothing), once each, in the order given."""
    ids = list(dict.fromkeys(u.pk for u in recipients if u is not None and u.pk))
    active = set(Membership.objects.filter(
        tenant=current_tenant(), user_id__in=ids, is_active=True, accepted_at__isnull=False, user__is_active=True,
    ).values_list("user_id", flat=True))
    users = {u.pk: u for u in recipients if u is not None}
    return [users[pk] for pk in ids if pk in active]


def _check_text(*, title: str, body: str, url: str, dedupe_key: str | None) -> tuple[str, str, str, str | None]:
    title, body, url = (title or "").strip(), body or "", (url or "").strip()
    fields = {}
    if not title:
        fields["title"] = ["required"]
    elif len(title) > 200:
        fields["title"] = ["at most 200 characters"]
    # A link inside this site only: a notice must not send its reader elsewhere (or run a script).
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > 500):
        fields["url"] = ["a path on this site, starting with '/' (at most 500 characters)"]
    if dedupe_key is not None and not (0 < len(dedupe_key) <= 200):
        fields["dedupe_key"] = ["1 to 200 characters"]
    if fields:
        name, problems = next(iter(fields.items()))
        raise InvalidInput(f"{name}: {problems[0]}", fields=fields)
    return title, body, url, dedupe_key


def notify(*, recipients: Iterable[User], kind: str, title: str, body: str = "", url: str = "",
           dedupe_key: str | None = None) -> list[Notification]:
    """Notify ``recipients`` (users of the current tenant) of one thing, on the channels each chose.

    ``url`` is a path on this site (the record the notice is about). With ``dedupe_key``, a recipient
    who already has a notification with that key gets nothing new: call ``notify`` again safely (a
    reminder job that runs twice, a handler retried). Returns the notifications made. Call it inside
    the transaction of the change: if that rolls back, no notice stays and no e-mail is sent.
    """
    spec = notification_kind(kind)
    title, body, url, dedupe_key = _check_text(title=title, body=body, url=url, dedupe_key=dedupe_key)
    recipients = list(recipients)
    made = []
    with transaction.atomic():
        users = _active_recipients(recipients)
        channels = notification_channels(users=users, kind=spec)
        for user in users:
            on = channels[user.pk]
            if not on:
                continue
            row = Notification(recipient=user, tenant=current_tenant(), kind=spec.code, title=title, body=body,
                               url=url, dedupe_key=dedupe_key or "", in_app="in_app" in on, email="email" in on)
            if dedupe_key is None:
                row.save()
            elif not _save_once(row):
                continue
            if row.email:
                enqueue(EMAIL_JOB, args={"notification_id": row.pk}, tenant=current_tenant())
            made.append(row)
    return made


def _save_once(row: Notification) -> bool:
    """Save ``row`` unless its recipient already has its ``dedupe_key`` (also when a concurrent
    transaction just made it: the unique constraint decides)."""
    if Notification.objects.filter(recipient_id=row.recipient_id, dedupe_key=row.dedupe_key).exists():
        return False
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return False
    return True


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification (the job ``core.notification_email`` calls this).

    Returns False when there is nothing to send: the notification is gone, already e-mailed, or its
    recipient was deactivated since. A mail server that fails raises, and the job is retried.
    """
    from traveler.core.services.auth import link_url

    n = Notification.objects.select_related("recipient").filter(pk=notification_id, email=True).first()
    if n is None or n.emailed_at is not None:
        return False
    if not _active_recipients([n.recipient]):
        return False
    if not once(f"core.notification.email:{n.pk}"):
        return False
    kind = registry.notification_kinds.get(n.kind)
    lines = [f"Hello {n.recipient.full_name},", "", n.title]
    if n.body:
        lines += ["", n.body]
    if n.url:
        lines += ["", f"Open it in Traveler: {link_url(n.url)}"]
    lines += ["", f"You receive this because e-mail is on for “{kind.label if kind else n.kind}” notifications.",
              f"Choose what you receive: {link_url('/notifications/preferences/')}", ""]
    mail_send(to=n.recipient.email, subject=f"[Traveler] {n.title}", body="\n".join(lines))
    Notification.objects.filter(pk=n.pk).update(emailed_at=timezone.now())
    return True


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (again: it stays read as it was)."""
    n = Notification.objects.filter(pk=notification_id, recipient=user, in_app=True).first()
    if n is None:
        raise NotFound("No such notification among yours.")
    if n.read_at is None:
        Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=timezone.now())
        n.refresh_from_db(fields=["read_at"])
    return n


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` in the current tenant read; returns how many."""
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).update(
        read_at=timezone.now())


def notification_preference_set(*, user: User, kind: str, channel: str, enabled: bool) -> NotificationPreference:
    """Choose whether ``user`` receives ``kind`` on ``channel`` in the current tenant."""
    spec = notification_kind(kind)
    _channel(channel)
    pref, _ = NotificationPreference.objects.update_or_create(
        user=user, kind=spec.code, channel=channel, defaults={"enabled": bool(enabled), "tenant": current_tenant()})
    return pref

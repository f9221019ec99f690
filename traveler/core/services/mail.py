"""Outgoing e-mail, through Django's mail API (``EMAIL_*`` settings; see docs/administration.md).

Two ways to send, both after the change that decides the mail is committed:

* ``mail_after_commit``: right after commit, in the same process; a failing mail server is logged
  (password links and invitations: the administrator can send them again);
* a durable job that calls ``mail_send`` (notifications): it raises on failure, so the queue
  retries it with back-off and finally leaves it dead for an administrator to see.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

log = logging.getLogger("traveler.mail")


def mail_send(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail now; raises when the mail server refuses it or cannot be reached."""
    send_mail(subject, body, None, [to], fail_silently=False)


def mail_after_commit(*, to: str, subject: str, body: str) -> None:
    """Send an e-mail once the transaction that decided it has committed. A mail server that fails
    is logged, not raised: the change stands, and the administrator can send the link again."""

    def send() -> None:
        try:
            mail_send(to=to, subject=subject, body=body)
        except Exception:
            log.exception("could not send %r to %s", subject, to)

    transaction.on_commit(send)

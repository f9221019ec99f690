"""Notifications through their services: kinds, channels as each user chose, dedupe, rollback, and
the e-mail job (sent after commit by the queue, retried when the mail server fails)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.test import override_settings

from traveler.core.errors import InvalidInput, NotFound
from traveler.core.models import Job, Membership, Notification, NotificationPreference
from traveler.core.queue import enqueue, run_pending
from traveler.core.registry import declare_notification_kind, registry
from traveler.core.selectors import (
    notification_list_for_user,
    notification_preferences_for_user,
    notification_unread_count,
)
from traveler.core.services.notifications import (
    EMAIL_JOB,
    notification_mark_read,
    notification_preference_set,
    notifications_mark_all_read,
    notify,
)
from traveler.core.services.users import member_set_active
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member

KIND = "core.approval.requested"


def email_jobs():
    return list(Job.objects.filter(name=EMAIL_JOB).order_by("id"))


@pytest.fixture
def people(tenant):
    return [make_member(tenant, roles=["qa_manager"]) for _ in range(2)]


@pytest.fixture
def in_app_only_kind():
    kind = declare_notification_kind("core.test_digest", label="Test digest", default_channels=("in_app",))
    yield kind
    registry.notification_kinds.pop(kind.code)


# ---------- kinds ----------

def test_core_declares_its_kinds():
    for code in ("core.approval.requested", "core.approval.completed", "core.approval.overdue",
                 "core.document.review_due"):
        kind = registry.notification_kinds[code]
        assert kind.module == "core" and kind.label and set(kind.default_channels) == {"in_app", "email"}


@pytest.mark.parametrize("code,channels,match", [
    ("nodot", ("in_app",), "<module>.<name>"),
    ("Core.Upper", ("in_app",), "lower case"),
    ("core.test_fax", ("fax",), "unknown channel"),
])
def test_a_kind_must_be_well_formed(code, channels, match):
    with pytest.raises(ValueError, match=match):
        declare_notification_kind(code, label="x", default_channels=channels)
    assert code not in registry.notification_kinds


def test_a_kind_cannot_be_declared_twice_differently(in_app_only_kind):
    assert declare_notification_kind("core.test_digest", label="Test digest", default_channels=("in_app",))
    with pytest.raises(ValueError, match="already declared"):
        declare_notification_kind("core.test_digest", label="Another", default_channels=("in_app",))


# ---------- notify ----------

def test_notify_makes_in_app_notices_and_emails_them_after_commit(tenant, people):
    a, b = people
    with tenant_context(tenant):
        made = notify(recipients=[a, b, a], kind=KIND, title="Approve DOC-0007", body="Rev B waits for you.",
                      url="/documents/7/")
        assert sorted(n.recipient_id for n in made) == sorted([a.pk, b.pk])
        assert all(n.in_app and n.email and n.emailed_at is None for n in made)
        assert [j.args for j in email_jobs()] == [{"notification_id": n.pk} for n in made]
        assert mail.outbox == []  # nothing inside the request
        run_pending()
        assert sorted(m.to[0] for m in mail.outbox) == sorted([a.email, b.email])
        message = mail.outbox[0]
        assert message.subject == "[Traveler] Approve DOC-0007"
        assert "Rev B waits for you." in message.body
        assert f"{settings.TRAVELER_BASE_URL.rstrip('/')}/documents/7/" in message.body
        assert all(n.emailed_at for n in Notification.objects.filter(pk__in=[n.pk for n in made]))
        assert notification_unread_count(a) == 1


def test_preferences_choose_the_channels(tenant, people, in_app_only_kind):
    a, b = people
    with tenant_context(tenant):
        notification_preference_set(user=a, kind=KIND, channel="email", enabled=False)
        notification_preference_set(user=b, kind=KIND, channel="in_app", enabled=False)
        made = {n.recipient_id: n for n in notify(recipients=[a, b], kind=KIND, title="Approve NCR-1")}
        assert (made[a.pk].in_app, made[a.pk].email) == (True, False)
        assert (made[b.pk].in_app, made[b.pk].email) == (False, True)
        assert [j.args["notification_id"] for j in email_jobs()] == [made[b.pk].pk]
        # b's notice is an e-mail only: not in b's bell or list
        assert notification_unread_count(b) == 0 and not notification_list_for_user(b).exists()
        run_pending()
        assert [m.to for m in mail.outbox] == [[b.email]]

        # absence of a choice is the kind's default: this kind is in the app only
        assert [(n.in_app, n.email) for n in notify(recipients=[a], kind=in_app_only_kind.code, title="Digest")] \
            == [(True, False)]
        notification_preference_set(user=a, kind=in_app_only_kind.code, channel="email", enabled=True)
        assert [(n.in_app, n.email) for n in notify(recipients=[a], kind=in_app_only_kind.code, title="Digest")] \
            == [(True, True)]

        # both channels off: nothing at all
        notification_preference_set(user=b, kind=KIND, channel="email", enabled=False)
        before = Notification.objects.count()
        assert notify(recipients=[b], kind=KIND, title="Approve NCR-2") == []
        assert Notification.objects.count() == before


def test_the_same_notice_is_never_made_twice(tenant, people):
    a, b = people
    with tenant_context(tenant):
        first = notify(recipients=[a], kind=KIND, title="Approve DOC-1", dedupe_key="approval:1:requested")
        again = notify(recipients=[a, b], kind=KIND, title="Approve DOC-1", dedupe_key="approval:1:requested")
        assert len(first) == 1 and [n.recipient_id for n in again] == [b.pk]
        assert Notification.objects.filter(dedupe_key="approval:1:requested").count() == 2
        assert len(email_jobs()) == 2
        # another key, or none, is another notice
        assert len(notify(recipients=[a], kind=KIND, title="Approve DOC-2", dedupe_key="approval:2:requested")) == 1
        assert len(notify(recipients=[a], kind=KIND, title="Reminder")) == 1
        assert len(notify(recipients=[a], kind=KIND, title="Reminder")) == 1


def test_a_change_that_rolls_back_notifies_nobody(tenant, people):
    with tenant_context(tenant):
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(recipients=people, kind=KIND, title="Approve DOC-9")
            raise RuntimeError("the approval request failed")
        assert not Notification.objects.exists() and email_jobs() == []
        run_pending()
    assert mail.outbox == []


def test_deactivated_users_get_nothing(tenant, people, admin):
    a, b = people
    with tenant_context(tenant, actor=admin):
        member_set_active(membership=Membership.objects.get(user=a, tenant=tenant), active=False)
        made = notify(recipients=[a, b], kind=KIND, title="Approve DOC-3")
        assert [n.recipient_id for n in made] == [b.pk]
        # deactivated after the e-mail was queued: it is not sent
        member_set_active(membership=Membership.objects.get(user=b, tenant=tenant), active=False)
        run_pending()
        assert mail.outbox == []
        assert Notification.objects.get(pk=made[0].pk).emailed_at is None


def test_members_of_another_tenant_get_nothing(tenant, other_tenant, people):
    stranger = make_member(other_tenant, roles=["qa_manager"])
    with tenant_context(tenant):
        assert [n.recipient_id for n in notify(recipients=[stranger, people[0]], kind=KIND, title="x")] \
            == [people[0].pk]


@pytest.mark.parametrize("kwargs,field", [
    ({"kind": "core.no_such_kind"}, "kind"),
    ({"title": "  "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"url": "https://elsewhere.example.com/"}, "url"),
    ({"url": "//elsewhere.example.com/"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"dedupe_key": ""}, "dedupe_key"),
])
def test_bad_input_names_the_field_and_writes_nothing(tenant, people, kwargs, field):
    args = {"recipients": people, "kind": KIND, "title": "Approve", **kwargs}
    with tenant_context(tenant):
        with pytest.raises(InvalidInput) as exc:
            notify(**args)
        assert field in exc.value.fields
        assert not Notification.objects.exists() and email_jobs() == []


# ---------- the e-mail job ----------

class FlakyBackend(EmailBackend):
    """The test mail server: refuses the next ``failures`` messages, then delivers to ``mail.outbox``."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionRefusedError("mail server down")
        return super().send_messages(messages)


FLAKY = f"{__name__}.FlakyBackend"


@override_settings(EMAIL_BACKEND=FLAKY, TRAVELER_JOB_RETRY_BASE_SECONDS=0)
def test_the_email_job_retries_a_failing_mail_server(tenant, people):
    FlakyBackend.failures = 2
    with tenant_context(tenant):
        (n,) = notify(recipients=people[:1], kind=KIND, title="Approve DOC-4")
        run_pending()
        (job,) = email_jobs()
        assert job.status == Job.Status.SUCCEEDED and job.attempts == 3
        n.refresh_from_db()
        assert n.emailed_at is not None
    assert len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND=FLAKY, TRAVELER_JOB_RETRY_BASE_SECONDS=0)
def test_a_mail_server_that_never_answers_leaves_the_job_dead(tenant, people):
    FlakyBackend.failures = 100
    try:
        with tenant_context(tenant):
            (n,) = notify(recipients=people[:1], kind=KIND, title="Approve DOC-5")
            run_pending()
            (job,) = email_jobs()
            assert job.status == Job.Status.DEAD and job.attempts == job.max_attempts
            assert "mail server down" in job.last_error
            n.refresh_from_db()
            assert n.emailed_at is None and n.read_at is None  # the in-app notice stands
    finally:
        FlakyBackend.failures = 0
    assert mail.outbox == []


def test_one_notification_is_emailed_once(tenant, people):
    with tenant_context(tenant):
        (n,) = notify(recipients=people[:1], kind=KIND, title="Approve DOC-6")
        enqueue(EMAIL_JOB, args={"notification_id": n.pk}, tenant=tenant)  # queued twice by mistake
        run_pending()
        assert {j.status for j in email_jobs()} == {Job.Status.SUCCEEDED}
    assert len(mail.outbox) == 1


# ---------- reading ----------

def test_mark_read_one_and_all(tenant, people):
    a, b = people
    with tenant_context(tenant):
        n1, n2, n3 = (notify(recipients=[a], kind=KIND, title=f"Approve {i}")[0] for i in range(3))
        (theirs,) = notify(recipients=[b], kind=KIND, title="Approve theirs")
        assert notification_unread_count(a) == 3
        read = notification_mark_read(user=a, notification_id=n2.pk)
        assert read.read_at is not None
        assert notification_mark_read(user=a, notification_id=n2.pk).read_at == read.read_at
        # unread first, newest first within each
        assert [n.pk for n in notification_list_for_user(a)] == [n3.pk, n1.pk, n2.pk]
        with pytest.raises(NotFound):
            notification_mark_read(user=a, notification_id=theirs.pk)
        notification_mark_read(user=a, notification_id=n1.pk)  # read later than n2, yet older: after it
        assert [n.pk for n in notification_list_for_user(a)] == [n3.pk, n2.pk, n1.pk]
        assert notifications_mark_all_read(user=a) == 1
        assert notification_unread_count(a) == 0 and notification_unread_count(b) == 1


def test_notifications_are_the_tenants(tenant, other_tenant):
    user = make_member(tenant, roles=["qa_manager"])
    with tenant_context(other_tenant):
        from traveler.core.services.users import member_add

        member_add(email=user.email, full_name=user.full_name, password=None, roles=["qa_manager"])
    with tenant_context(tenant):
        (n,) = notify(recipients=[user], kind=KIND, title="Approve here")
    with tenant_context(other_tenant):
        assert notification_unread_count(user) == 0
        with pytest.raises(NotFound):
            notification_mark_read(user=user, notification_id=n.pk)
        assert Notification.unscoped.filter(pk=n.pk).count() == 0  # the database's wall too
        assert notifications_mark_all_read(user=user) == 0
    with tenant_context(tenant):
        assert notification_unread_count(user) == 1


# ---------- preferences ----------

def test_preference_set_validates_and_updates(tenant, people):
    a = people[0]
    with tenant_context(tenant):
        with pytest.raises(InvalidInput) as exc:
            notification_preference_set(user=a, kind="core.nope", channel="email", enabled=False)
        assert "kind" in exc.value.fields
        with pytest.raises(InvalidInput) as exc:
            notification_preference_set(user=a, kind=KIND, channel="pager", enabled=False)
        assert "channel" in exc.value.fields
        notification_preference_set(user=a, kind=KIND, channel="email", enabled=False)
        notification_preference_set(user=a, kind=KIND, channel="email", enabled=True)
        assert list(NotificationPreference.objects.filter(user=a).values_list("channel", "enabled")) \
            == [("email", True)]
        notification_preference_set(user=a, kind=KIND, channel="email", enabled=False)
        row = next(r for r in notification_preferences_for_user(a, tenant) if r["kind"].code == KIND)
        assert row["channels"] == {"in_app": {"enabled": True, "default": True},
                                   "email": {"enabled": False, "default": True}}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_notices_with_one_key_make_one(tenant):
    """Two transactions notify one user with one dedupe key at once, on two connections: the second
    waits on the first's row, then skips it; one notice and one e-mail job stay. (The first holds its
    transaction open until PostgreSQL shows the second blocked by it.)"""
    import threading
    import time

    from django.db import connection

    user = make_member(tenant, roles=["qa_manager"])
    first_made = threading.Event()
    results: dict[str, object] = {}

    def first():
        try:
            with tenant_context(tenant), transaction.atomic():
                results["first"] = len(notify(recipients=[user], kind=KIND, title="Approve", dedupe_key="race:1"))
                first_made.set()
                deadline = time.monotonic() + 10
                with connection.cursor() as cur:
                    while time.monotonic() < deadline:
                        cur.execute("SELECT pg_stat_clear_snapshot()")
                        cur.execute("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
                        if cur.fetchone()[0]:
                            results["seen_waiting"] = True
                            break
                        time.sleep(0.02)
        except Exception as exc:  # reported below, not lost in the thread
            results["first"] = exc
        finally:
            first_made.set()
            connection.close()

    def second():
        try:
            first_made.wait(10)
            with tenant_context(tenant), transaction.atomic():
                results["second"] = len(notify(recipients=[user], kind=KIND, title="Approve", dedupe_key="race:1"))
        except Exception as exc:
            results["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert results == {"first": 1, "second": 0, "seen_waiting": True}, results
    with tenant_context(tenant):
        (n,) = Notification.objects.filter(recipient=user, dedupe_key="race:1")
        assert list(Job.objects.filter(name=EMAIL_JOB, args__notification_id=n.pk).values_list("id", flat=True))

"""A PostgreSQL-backed job queue: no Redis, no Celery.

    @job("core.purge_login_attempts", every=timedelta(hours=1))
    def purge_login_attempts(): ...

    enqueue("qms.recompute", args={"report_id": 7}, tenant=tenant)

Jobs are rows in ``core_job``. Workers (``./dev manage worker``) claim them with
``FOR UPDATE SKIP LOCKED``, run each inside its tenant's context, retry failures with exponential
back-off and, after ``max_attempts``, leave them ``dead`` for an administrator to inspect and retry.
Enqueueing is transactional: a job queued in a transaction that rolls back never runs.

A claimed job is leased to its worker for ``TRAVELER_JOB_LEASE_SECONDS``; the worker renews the lease
while the job runs. A job whose lease has expired (its worker died) is due again, and that run counts as
an attempt. A job's work and its completion commit in one transaction, and only while the worker still
holds the lease; ``once(key)`` guards an effect that must not happen twice across runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from traveler.core.registry import JobSpec, _module_of, registry
from traveler.core.tenancy import tenant_context

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "traveler_jobs"


def job(name: str, *, max_attempts: int = 5, every: timedelta | None = None, atomic: bool = True) -> Callable:
    """Register a job function (keyword arguments only). ``every`` makes it periodic.

    An ``atomic`` job runs in one transaction that also records its completion. ``atomic=False`` is
    for long jobs that commit as they go: each step guards its effect with ``once(key)``.
    """

    def decorator(func):
        if name in registry.jobs and registry.jobs[name].func is not func:
            raise ValueError(f"job {name!r} is registered twice")
        registry.jobs[name] = JobSpec(
            name=name,
            func=func,
            module=_module_of(func),
            max_attempts=max_attempts,
            every_seconds=int(every.total_seconds()) if every else None,
            atomic=atomic,
        )
        return func

    return decorator


def enqueue(name: str, *, args: dict[str, Any] | None = None, tenant=None, run_at=None,
            max_attempts: int | None = None):
    from traveler.core.models import Job

    spec = registry.jobs.get(name)
    if spec is None:
        raise LookupError(f"no job named {name!r} is registered")
    with tenant_context(tenant):  # the job's row belongs to its tenant (none: the system's)
        row = Job.objects.create(
            name=name,
            args=args or {},
            tenant=tenant,
            run_at=run_at or timezone.now(),
            max_attempts=max_attempts or spec.max_attempts,
        )
    transaction.on_commit(_notify)
    return row


def _notify() -> None:
    with connection.cursor() as cur:
        cur.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def retry_delay(attempts: int) -> timedelta:
    base = float(getattr(settings, "TRAVELER_JOB_RETRY_BASE_SECONDS", 2))
    return timedelta(seconds=min(base * (2 ** (attempts - 1)), 3600))


def lease_seconds() -> float:
    return float(getattr(settings, "TRAVELER_JOB_LEASE_SECONDS", 60))


class LeaseLost(Exception):
    """The worker no longer holds the job: its lease expired and another worker may have it."""


def _claim(worker_id: str):
    """Lease the next due job of any tenant to ``worker_id``: a queued one, or a running one whose
    lease expired (its worker stopped; on its last attempt it is marked dead instead). Returns the
    job's row, read in its tenant's context, or None.

    The worker sees no tenant's rows, so the claim goes through ``traveler_job_claim`` (a narrow
    SECURITY DEFINER function that answers only the job's id and tenant); everything else about the
    job happens in its tenant's context.
    """
    from traveler.core.models import Job, Tenant

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT job_id, job_tenant FROM traveler_job_claim(%s, %s)", [worker_id, lease_seconds()])
        claimed = cur.fetchone()
    if claimed is None:
        return None
    tenant = Tenant.objects.get(pk=claimed[1]) if claimed[1] is not None else None
    with tenant_context(tenant):
        row = Job.objects.select_related("tenant").get(pk=claimed[0])
    row.tenant = tenant
    return row


def _mine(row):
    """The job row as long as this claim of it holds the lease (the attempt number identifies a claim)."""
    from traveler.core.models import Job

    return Job.objects.filter(pk=row.pk, status=Job.Status.RUNNING, locked_by=row.locked_by,
                              attempts=row.attempts)


def renew_lease(row) -> bool:
    """Extend this worker's lease on ``row``; False when it was lost."""
    return bool(_mine(row).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds())))


class _Heartbeat(threading.Thread):
    """Renews a running job's lease every third of its length, on a connection of its own."""

    def __init__(self, row):
        super().__init__(name=f"lease-{row.pk}", daemon=True)
        self.row = row
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection as own

        try:
            with tenant_context(self.row.tenant):  # a new thread starts outside any context
                self._beat(own)
        finally:
            own.close()

    def _beat(self, own) -> None:
        while not self.stop.wait(lease_seconds() / 3):
            try:
                if not renew_lease(self.row):
                    # The job may just have finished (its completion held the row): not a loss.
                    if not self.stop.wait(1):
                        log.warning("job %s #%s: lease lost", self.row.name, self.row.pk)
                    return
            except Exception:  # a lost connection: try again next beat, the lease may still hold
                log.exception("job %s #%s: could not renew the lease", self.row.name, self.row.pk)
                own.close()


_current_job: threading.local = threading.local()


def once(key: str) -> bool:
    """Record that the effect named ``key`` happens, in the current transaction.

    Returns True the first time, False when a committed transaction already recorded it: the caller
    skips the effect. Keys are kept for ``TRAVELER_JOB_RETENTION_DAYS``.
    """
    from traveler.core.models import JobEffect

    if not key or len(key) > 200:
        raise ValueError("key: give 1 to 200 characters")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {JobEffect._meta.db_table} (key, job_id, created_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            [key, getattr(_current_job, "id", None)],
        )
        return cur.fetchone() is not None


def run_one(worker_id: str = "inline", *, heartbeat: bool = False) -> bool:
    """Claim and run one due job. Returns False when none was due.

    ``heartbeat`` renews the lease from a thread while the job runs (the worker does; inline runs in
    tests do not need it).
    """
    row = _claim(worker_id)
    if row is None:
        return False
    spec = registry.jobs.get(row.name)
    beat = _Heartbeat(row) if heartbeat else None
    if beat:
        beat.start()
    _current_job.id = row.pk
    try:
        with tenant_context(row.tenant):  # the job's rows, and its own, are its tenant's
            _run_claimed(row, spec)
    finally:
        _current_job.id = None
        if beat:
            beat.stop.set()
            beat.join(timeout=lease_seconds())
    return True


def _run_claimed(row, spec) -> None:
    from traveler.core.models import Job

    try:
        if spec is None:
            raise LookupError(f"no job named {row.name!r} is registered in this installation")
        if spec.atomic:
            with transaction.atomic():
                spec.func(**row.args)
                _finish(row)
        else:
            spec.func(**row.args)
            _finish(row)
    except LeaseLost:
        log.warning("job %s #%s: lease lost before it finished; its work was not kept", row.name, row.pk)
    except Exception as exc:  # the job failed: retry later or give up
        err = "".join(traceback.format_exception(exc))[-4000:]
        dead = row.attempts >= row.max_attempts
        _mine(row).update(
            status=Job.Status.DEAD if dead else Job.Status.QUEUED,
            last_error=err,
            run_at=timezone.now() + retry_delay(row.attempts),
            finished_at=timezone.now() if dead else None,
            locked_by="",
            lease_expires_at=None,
        )
        log.warning("job %s #%s failed (attempt %s/%s)%s", row.name, row.pk, row.attempts,
                    row.max_attempts, ": dead" if dead else "")


def _finish(row) -> None:
    from traveler.core.models import Job

    if not _mine(row).update(status=Job.Status.SUCCEEDED, finished_at=timezone.now(), last_error="",
                             locked_by="", lease_expires_at=None):
        raise LeaseLost(row.pk)


def run_pending(*, limit: int = 1000, worker_id: str = "inline", heartbeat: bool = False) -> int:
    """Run due jobs until none is left (or ``limit``); used by the worker and by tests."""
    done = 0
    while done < limit and run_one(worker_id, heartbeat=heartbeat):
        done += 1
    return done


def schedule_periodic(now=None) -> int:
    """Queue each periodic job that is due; one worker wins each schedule row."""
    from traveler.core.models import PeriodicSchedule

    now = now or timezone.now()
    queued = 0
    for spec in registry.jobs.values():
        if not spec.every_seconds:
            continue
        PeriodicSchedule.objects.get_or_create(name=spec.name, defaults={"next_run_at": now})
    with transaction.atomic():
        due = PeriodicSchedule.objects.select_for_update(skip_locked=True).filter(next_run_at__lte=now)
        for sched in due:
            spec = registry.jobs.get(sched.name)
            if spec is None or not spec.every_seconds:
                continue
            enqueue(spec.name)
            sched.last_run_at = now
            sched.next_run_at = now + timedelta(seconds=spec.every_seconds)
            sched.save(update_fields=["last_run_at", "next_run_at"])
            queued += 1
    return queued


def retry_job(job_id: int) -> None:
    """Put a dead job back in the queue (an administrator's action)."""
    from traveler.core.models import Job

    updated = Job.objects.filter(pk=job_id, status=Job.Status.DEAD).update(
        status=Job.Status.QUEUED, attempts=0, run_at=timezone.now(), finished_at=None, locked_by="",
        lease_expires_at=None,
    )
    if not updated:
        raise ValueError("only a dead job can be retried")
    transaction.on_commit(_notify)


def wait_for_notify(timeout: float) -> None:
    """Sleep until a job is queued (NOTIFY) or ``timeout`` seconds pass.

    The notification generator is always run to its end: a generator left suspended keeps the
    connection's lock, and the next query would wait for it forever.
    """
    connection.ensure_connection()
    with connection.cursor() as cur:  # again each time: the connection may be a new one
        cur.execute(f"LISTEN {NOTIFY_CHANNEL}")
    pg = connection.connection
    # A NOTIFY that came in with the last query's result may sit parsed in libpq, where the
    # generator (which waits for the socket) would not see it until the timeout: take it first.
    pg.pgconn.consume_input()
    if pg.pgconn.notifies() is not None:
        while pg.pgconn.notifies() is not None:
            pass
        return
    for _ in pg.notifies(timeout=timeout, stop_after=1):
        pass


def work(*, once: bool = False, poll: float | None = None) -> None:
    """The worker loop: wake on NOTIFY or every ``poll`` seconds, run what is due."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    poll = poll if poll is not None else settings.TRAVELER_JOB_POLL_SECONDS
    log.warning("worker %s started", worker_id)
    while True:
        schedule_periodic()
        run_pending(worker_id=worker_id, heartbeat=True)
        if once:
            return
        # A leased job whose worker died becomes due when its lease expires, with no NOTIFY.
        wait_for_notify(min(poll, lease_seconds()))

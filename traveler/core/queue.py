"""A PostgreSQL-backed job queue: no Redis, no Celery.

    @job("core.purge_login_attempts", every=timedelta(hours=1))
    def purge_login_attempts(): ...

    enqueue("qms.recompute", args={"report_id": 7}, tenant=tenant)

Jobs are rows in ``core_job``. Workers (``./dev manage worker``) claim them with
``FOR UPDATE SKIP LOCKED``, run each inside its tenant's context, retry failures with exponential
back-off and, after ``max_attempts``, leave them ``dead`` for an administrator to inspect and retry.
Enqueueing is transactional: a job queued in a transaction that rolls back never runs.
"""

from __future__ import annotations

import logging
import os
import socket
import time
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


def job(name: str, *, max_attempts: int = 5, every: timedelta | None = None) -> Callable:
    """Register a job function (keyword arguments only). ``every`` makes it periodic."""

    def decorator(func):
        if name in registry.jobs and registry.jobs[name].func is not func:
            raise ValueError(f"job {name!r} is registered twice")
        registry.jobs[name] = JobSpec(
            name=name,
            func=func,
            module=_module_of(func),
            max_attempts=max_attempts,
            every_seconds=int(every.total_seconds()) if every else None,
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


def _claim(worker_id: str):
    """Claim the next due job of any tenant: ``(job id, tenant or None)``, or None.

    The worker sees no tenant's rows, so the claim goes through ``traveler_job_claim`` (a narrow
    SECURITY DEFINER function); everything else about the job happens in its tenant's context.
    """
    from traveler.core.models import Tenant

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT job_id, job_tenant FROM traveler_job_claim(%s)", [worker_id])
        claimed = cur.fetchone()
    if claimed is None:
        return None
    return claimed[0], (Tenant.objects.get(pk=claimed[1]) if claimed[1] is not None else None)


def run_one(worker_id: str = "inline") -> bool:
    """Claim and run one due job. Returns False when none was due."""
    from traveler.core.models import Job

    claimed = _claim(worker_id)
    if claimed is None:
        return False
    job_id, tenant = claimed
    with tenant_context(tenant):
        row = Job.objects.get(pk=job_id)
        spec = registry.jobs.get(row.name)
        try:
            if spec is None:
                raise LookupError(f"no job named {row.name!r} is registered in this installation")
            with transaction.atomic():
                spec.func(**row.args)
        except Exception as exc:  # the job failed: retry later or give up
            err = "".join(traceback.format_exception(exc))[-4000:]
            dead = row.attempts >= row.max_attempts
            Job.objects.filter(pk=row.pk).update(
                status=Job.Status.DEAD if dead else Job.Status.QUEUED,
                last_error=err,
                run_at=timezone.now() + retry_delay(row.attempts),
                finished_at=timezone.now() if dead else None,
                locked_by="",
            )
            log.warning("job %s #%s failed (attempt %s/%s)%s", row.name, row.pk, row.attempts,
                        row.max_attempts, ": dead" if dead else "")
        else:
            Job.objects.filter(pk=row.pk).update(
                status=Job.Status.SUCCEEDED, finished_at=timezone.now(), last_error="", locked_by=""
            )
    return True


def run_pending(*, limit: int = 1000, worker_id: str = "inline") -> int:
    """Run due jobs until none is left (or ``limit``); used by the worker and by tests."""
    done = 0
    while done < limit and run_one(worker_id):
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
        status=Job.Status.QUEUED, attempts=0, run_at=timezone.now(), finished_at=None
    )
    if not updated:
        raise ValueError("only a dead job can be retried")
    transaction.on_commit(_notify)


def work(*, once: bool = False, poll: float | None = None) -> None:
    """The worker loop: wake on NOTIFY or every ``poll`` seconds, run what is due."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    poll = poll if poll is not None else settings.TRAVELER_JOB_POLL_SECONDS
    log.warning("worker %s started", worker_id)
    while True:
        schedule_periodic()
        run_pending(worker_id=worker_id)
        if once:
            return
        connection.ensure_connection()
        pg = connection.connection
        with connection.cursor() as cur:
            cur.execute(f"LISTEN {NOTIFY_CHANNEL}")
        gen = pg.notifies(timeout=poll)
        for _ in gen:
            break
        time.sleep(0.01)

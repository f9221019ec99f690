"""A real worker process: woken by several NOTIFYs in a row, and killed in the middle of a job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from traveler.core.models import Job
from traveler.core.queue import enqueue
from traveler.core.tests import worker_jobs  # registers the test jobs here too

ROOT = Path(settings.BASE_DIR).resolve()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Data the worker process can see: committed, with unique values, and never counted globally
    (pytest-django's transactional tests empty tables with TRUNCATE, which the app role may not do)."""
    with django_db_blocker.unblock():
        yield


def _start_worker(tmp_path: Path, name: str, **env_extra: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("TRAVELER_DB_AS_OWNER", None)  # the worker connects as the application role
    env.update(
        DJANGO_SETTINGS_MODULE="traveler.server.settings",
        PYTHONPATH=str(ROOT),
        TRAVELER_DB_NAME=connection.settings_dict["NAME"],  # the test database, suffix included
        **env_extra,
    )
    log = open(tmp_path / f"{name}.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", worker_jobs.WORKER], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def _wait_for(predicate, what: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, f"the worker exited ({proc.returncode}) while waiting for {what}"
        time.sleep(0.05)
    proc.send_signal(signal.SIGUSR1)  # the worker prints its threads' stacks
    time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; the worker's output:\n{Path(proc.log_path).read_text()[-6000:]}")


def _status(pk: int) -> str:
    return Job.objects.get(pk=pk).status


def test_worker_keeps_running_jobs_after_several_notifies(committed, tmp_path):
    out = tmp_path / "out.txt"
    # Polling is slow here: only NOTIFY can wake the worker in time.
    worker = _start_worker(tmp_path, "worker", TRAVELER_JOB_POLL_SECONDS="120")
    try:
        for i in range(4):
            row = enqueue("core.test_append", args={"path": str(out), "line": f"job {i}"})
            _wait_for(lambda pk=row.pk: _status(pk) == Job.Status.SUCCEEDED, f"job {i} to succeed", worker,
                      timeout=20)
    finally:
        _stop(worker)
    assert out.read_text().splitlines() == [f"job {i}" for i in range(4)]


def test_killed_worker_job_is_finished_once_by_another(committed, tmp_path):
    out, go, started = tmp_path / "out.txt", tmp_path / "go", tmp_path / "started"
    lease = {"TRAVELER_JOB_LEASE_SECONDS": "2", "TRAVELER_JOB_POLL_SECONDS": "0.5"}
    first = _start_worker(tmp_path, "first", **lease)
    try:
        row = enqueue("core.test_two_steps",
                      args={"path": str(out), "tag": f"kill-{os.getpid()}-{time.time_ns()}", "go": str(go),
                            "started": str(started)})
        _wait_for(started.exists, "the job to start", first)
        running = Job.objects.get(pk=row.pk)
        assert running.status == Job.Status.RUNNING and running.attempts == 1
        # Longer than the lease: the heartbeat keeps it.
        time.sleep(3)
        renewed = Job.objects.get(pk=row.pk)
        assert renewed.status == Job.Status.RUNNING and renewed.lease_expires_at > running.lease_expires_at
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        _stop(first)
    assert out.read_text().splitlines() == ["step 1"]
    go.touch()
    second = _start_worker(tmp_path, "second", **lease)
    try:
        _wait_for(lambda: _status(row.pk) == Job.Status.SUCCEEDED, "the second worker to finish the job",
                  second)
    finally:
        _stop(second)
    done = Job.objects.get(pk=row.pk)
    assert done.attempts == 2 and done.lease_expires_at is None
    assert out.read_text().splitlines() == ["step 1", "step 2"]  # step 1 did not happen again


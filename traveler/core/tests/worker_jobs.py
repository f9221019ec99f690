"""Jobs for the tests that drive a real worker process (see ``WORKER``).

Their effects are lines appended to a file, so that a test sees them from outside the database and
counts how often each happened."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.db import transaction

from traveler.core.queue import job, once

# A worker that knows these jobs: ``python -c WORKER``.
# SIGUSR1 makes it print every thread's stack, for a test that timed out to show where it waits.
WORKER = ("import faulthandler, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
          "import django; django.setup(); import traveler.core.tests.worker_jobs; "
          "from traveler.core.queue import work; work()")
WAIT_SECONDS = 30  # every wait is bounded: a bug fails the test instead of hanging it


def _append(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


@job("core.test_append", max_attempts=3)
def append(*, path: str, line: str) -> None:
    _append(path, line)


@job("core.test_two_steps", max_attempts=3, atomic=False)
def two_steps(*, path: str, tag: str, go: str, started: str) -> None:
    """Step one, then wait until the file ``go`` exists, then step two; each step at most once."""
    with transaction.atomic():
        if once(f"test:{tag}:1"):
            transaction.on_commit(lambda: _append(path, "step 1"))
    Path(started).write_text(str(os.getpid()))
    deadline = time.monotonic() + WAIT_SECONDS
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("nobody said go")
        time.sleep(0.05)
    with transaction.atomic():
        if once(f"test:{tag}:2"):
            transaction.on_commit(lambda: _append(path, "step 2"))


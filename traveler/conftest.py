"""Test set-up shared by every module.

The test database is created and migrated as the owner role. Test connections then act as the
application role (``SET ROLE`` at connect), so row-level security and privileges apply exactly as
in production; ``as_owner()`` switches back within a test to play an administrator with database
rights (for example, to tamper with the history and check that ``audit_verify`` notices).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection, connections

from traveler.core.tests.factories import make_member, make_tenant


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    db["USER"], db["PASSWORD"] = db["TRAVELER_OWNER"], db["TRAVELER_OWNER_PASSWORD"]
    with django_db_blocker.unblock():
        names = setup_databases(verbosity=0, interactive=False, keepdb=False)
        connections["default"].close()
        db.setdefault("OPTIONS", {})["options"] = f"-c role={db['TRAVELER_APP_USER']}"
    yield
    with django_db_blocker.unblock():
        connections["default"].close()
        db["OPTIONS"].pop("options", None)
        teardown_databases(names, verbosity=0)


@contextmanager
def _as_owner():
    with connection.cursor() as cur:
        cur.execute(f"SET ROLE {settings.DATABASES['default']['TRAVELER_OWNER']}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"SET ROLE {settings.DATABASES['default']['TRAVELER_APP_USER']}")


@pytest.fixture
def as_owner():
    return _as_owner


_seq = itertools.count(1)


@pytest.fixture
def tenant(db):
    return make_tenant(f"Acme Injectors {next(_seq)}")


@pytest.fixture
def other_tenant(db):
    return make_tenant(f"Rival Diesel {next(_seq)}")


@pytest.fixture
def admin(tenant):
    return make_member(tenant, roles=["tenant_admin"])


@pytest.fixture
def api(db):
    """An API client; ``api.as_user(user, tenant)`` signs it in with a real token."""
    from traveler.core.tests.factories import ApiClient

    return ApiClient()


# ---------- progress: one line per test file, readable in CI logs ----------

class FileProgress:
    """Prints ``<file>: N passed, M failed in Xs  [done/total files, elapsed]`` when a file's tests end."""

    def __init__(self, config):
        self.config = config
        self.expected: dict[str, int] = {}
        self.seen: dict[str, dict[str, int]] = {}
        self.started: dict[str, float] = {}
        self.begin = None

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.expected[item.nodeid.split("::", 1)[0]] = self.expected.get(item.nodeid.split("::", 1)[0], 0) + 1

    def pytest_runtest_logreport(self, report):
        import time

        now = time.monotonic()
        self.begin = self.begin or now
        path = report.nodeid.split("::", 1)[0]
        self.started.setdefault(path, now)
        counts = self.seen.setdefault(path, {})
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            counts[report.outcome] = counts.get(report.outcome, 0) + 1
        elif report.when == "teardown" and report.outcome == "failed":
            counts["error"] = counts.get("error", 0) + 1
        if not self.expected or report.when != "teardown" or sum(v for k, v in counts.items() if k != "error") < self.expected.get(path, 0):
            return
        done = sum(1 for p, c in self.seen.items()
                   if sum(v for k, v in c.items() if k != "error") >= self.expected.get(p, 0))
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"{path}: {summary} in {now - self.started[path]:.1f}s "
                                f"[{done}/{len(self.expected)} files, {now - self.begin:.0f}s]")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controlling process reports, not each worker
        config.pluginmanager.register(FileProgress(config), "traveler-file-progress")

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
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    # django_db_modify_db_settings gives each pytest-xdist worker its own test database (test_traveler_gw0, ...)
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


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Argon2 with low costs (see traveler/core/tests/hashers.py); benchmarks measure the real one."""
    from django.test import override_settings

    fast = override_settings(PASSWORD_HASHERS=["traveler.core.tests.hashers.FastArgon2PasswordHasher"])
    fast.enable()
    yield
    fast.disable()


@pytest.fixture(scope="session", autouse=True)
def _transactional_tests_keep_their_rows():
    """``django_db(transaction=True)`` tests commit for real, so that several connections can race on
    their rows. Django would empty every table after each with TRUNCATE, which the app role may not do
    and the append-only history refuses even to the owner; so, like the browser tests, they leave their
    rows behind, in tenants of their own, and assert nothing global."""
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown
    TransactionTestCase._fixture_teardown = lambda self: None
    yield
    TransactionTestCase._fixture_teardown = flush


@pytest.fixture(scope="session", autouse=True)
def _document_files(tmp_path_factory):
    """Uploaded files go to a folder of the test session, not to the installation's."""
    from django.test import override_settings

    storages = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("files"))}}}
    with override_settings(STORAGES=storages):
        yield


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

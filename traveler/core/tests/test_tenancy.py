"""Tenant isolation in the ORM and in PostgreSQL itself (row-level security as the app role)."""

import os
import stat

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from traveler.core.models import Company, Role
from traveler.core.services.users import member_add
from traveler.core.tenancy import TenantNotSet, signed_context, tenant_context
from traveler.core.tests.factories import make_company, make_member


def test_scoped_manager_fails_closed_without_tenant(tenant):
    make_company(tenant, "Northwind")
    with pytest.raises(TenantNotSet):
        list(Company.objects.all())
    with pytest.raises(TenantNotSet):
        Company.objects.count()


def test_queryset_built_at_import_time_resolves_tenant_when_run(tenant, other_tenant):
    qs = Company.objects.all()  # built with no tenant: must not raise until executed
    make_company(tenant, "A-co")
    make_company(other_tenant, "B-co")
    with tenant_context(tenant):
        assert [c.name for c in qs.all()] == ["A-co"]
    with tenant_context(other_tenant):
        assert [c.name for c in qs.all()] == ["B-co"]


def test_raw_sql_as_app_role_sees_only_current_tenant(tenant, other_tenant):
    make_company(tenant, "Mine")
    make_company(other_tenant, "Theirs")
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("SELECT current_user, name FROM core_company")
        rows = cur.fetchall()
    assert rows == [(settings.DATABASES["default"]["TRAVELER_APP_USER"], "Mine")]
    with connection.cursor() as cur:  # no tenant set at all: nothing
        cur.execute("SELECT count(*) FROM core_company")
        assert cur.fetchone()[0] == 0


def test_raw_insert_into_another_tenant_is_refused(tenant, other_tenant):
    with tenant_context(tenant), pytest.raises(Exception) as exc, transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO core_company (tenant_id, name, kind, description, created_at, updated_at, version) "
                "VALUES (%s, 'Sneaky', 'customer', '', now(), now(), 1)", [other_tenant.pk])
    assert "row-level security" in str(exc.value)


def test_raw_update_cannot_reach_another_tenant(tenant, other_tenant):
    theirs = make_company(other_tenant, "Theirs")
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("UPDATE core_company SET name = 'pwned' WHERE id = %s", [theirs.pk])
        assert cur.rowcount == 0


TENANT_COLUMN_TABLES = """
    SELECT c.relname, c.relrowsecurity,
           (SELECT string_agg(pg_get_expr(p.polqual, p.polrelid), ' ') FROM pg_policy p WHERE p.polrelid = c.oid)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attname = 'tenant_id' AND NOT a.attisdropped AND a.attnum > 0
      AND c.relkind IN ('r', 'p') AND n.nspname = 'public'
"""


def test_every_table_with_a_tenant_column_has_a_tenant_policy(db):
    """Found in PostgreSQL's catalogue, not in the installer's list of models."""
    with connection.cursor() as cur:
        cur.execute(TENANT_COLUMN_TABLES)
        tables = {name: (rls, policy) for name, rls, policy in cur.fetchall()}
    assert {"core_company", "core_role", "core_job", "core_outboxevent", "core_membership", "core_membershiprole",
            "core_apitoken", "core_tenantmodule", "core_history"} <= set(tables)
    missing = {name for name, (rls, policy) in tables.items()
               if not rls or "traveler_current_tenant()" not in (policy or "")}
    assert missing == set()


def _app_connection():
    """A connection exactly as the application makes one in production (no SET ROLE)."""
    db_settings = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"], user=db_settings["TRAVELER_APP_USER"],
        password=db_settings["TRAVELER_APP_PASSWORD"] or None, host=db_settings["HOST"],
        port=db_settings["PORT"] or None, autocommit=True)


def test_a_tenant_set_by_hand_reads_nothing_of_another_tenant(tenant, other_tenant):
    make_company(other_tenant, "Theirs")
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == settings.DATABASES["default"]["TRAVELER_APP_USER"]
        for forged in (f"{other_tenant.pk}", f"{other_tenant.pk}::", f"{other_tenant.pk}::{'0' * 64}",
                       signed_context(other_tenant.pk, None, connection.connection.info.backend_pid + 1)):
            with pytest.raises(DatabaseError, match="not signed"), transaction.atomic():
                cur.execute("SELECT set_config('traveler.context', %s, false)", [forged])
                cur.execute("SELECT name FROM core_company")
        # the settings the database once trusted are not read any more
        cur.execute("SELECT set_config('traveler.tenant_id', %s, false)", [str(other_tenant.pk)])
        cur.execute("SELECT name FROM core_company")
        assert cur.fetchall() == []


def test_a_signed_context_is_bound_to_its_database_session(tenant):
    """A value signed for one backend (read by injected SQL, say) is refused on another connection."""
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("SELECT current_setting('traveler.context')")
        stolen = cur.fetchone()[0]
    conn = _app_connection()
    try:
        cur = conn.cursor()
        cur.execute("SELECT set_config('traveler.context', %s, false)", [stolen])
        # Called directly: a policy's sub-select is not run at all on a table with no row to check.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not signed"):
            cur.execute("SELECT traveler_current_tenant()")
        own = signed_context(tenant.pk, None, conn.info.backend_pid)  # what the application would set
        cur.execute("SELECT set_config('traveler.context', %s, false)", [own])
        cur.execute("SELECT count(*) FROM core_company")  # accepted (the test's rows are not committed)
        assert cur.fetchone()[0] == 0
    finally:
        conn.close()


def test_the_worker_runs_every_tenants_jobs_it_cannot_read(tenant, other_tenant):
    from traveler.core.models import Job
    from traveler.core.queue import enqueue, job, run_pending
    from traveler.core.registry import registry
    from traveler.core.tenancy import current_tenant_or_none

    seen = []

    @job("core.test_tenant_seen")
    def seen_by():
        t = current_tenant_or_none()
        seen.append(t.pk if t else None)

    try:
        for t in (tenant, other_tenant, None):
            enqueue("core.test_tenant_seen", tenant=t)
        # outside any tenant the worker sees the platform's own jobs only
        assert list(Job.objects.filter(name="core.test_tenant_seen").values_list("tenant_id", flat=True)) == [None]
        assert run_pending() == 3
    finally:
        registry.jobs.pop("core.test_tenant_seen", None)
    assert sorted(seen, key=str) == sorted([tenant.pk, other_tenant.pk, None], key=str)
    for t in (tenant, other_tenant):
        with tenant_context(t):
            assert list(Job.objects.filter(name="core.test_tenant_seen").values_list("status", flat=True)) == [
                Job.Status.SUCCEEDED]


def test_before_a_tenant_is_chosen_a_user_sees_only_their_own_memberships(tenant, other_tenant):
    from traveler.core.models import Membership
    from traveler.core.services.auth import tenants_for

    me = make_member(tenant, roles=["operator"])
    make_member(other_tenant, roles=["operator"])
    with tenant_context(other_tenant, actor=me):
        member_add(email=me.email, full_name="Me", password=None, roles=["operator"])
    with tenant_context(None, actor=me):
        assert set(Membership.objects.values_list("user_id", flat=True)) == {me.pk}
    with tenant_context(None, actor=None):
        assert Membership.objects.count() == 0
    assert {t.pk for t in tenants_for(me)} == {tenant.pk, other_tenant.pk}


def test_a_token_names_its_tenant_only_to_who_holds_it(tenant, admin):
    from traveler.core.services.auth import token_authenticate, token_issue

    _, raw = token_issue(user=admin, tenant=tenant)  # sign-in issues it with no tenant chosen
    prefix = raw.split("_")[1]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM core_apitoken")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM traveler_token_owner(%s, %s)", [prefix, "0" * 64])
        assert cur.fetchone()[0] == 0
    token = token_authenticate(raw)
    assert (token.user_id, token.tenant_id) == (admin.pk, tenant.pk)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the embedded server only")
def test_the_embedded_server_asks_every_role_for_its_password(db):
    from traveler.server import embedded_db

    db_settings = settings.DATABASES["default"]
    for user in (embedded_db.SUPERUSER, db_settings["TRAVELER_OWNER"], db_settings["TRAVELER_APP_USER"]):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(dbname="postgres", user=user, password="not-the-password",
                            host=db_settings["HOST"], port=db_settings["PORT"] or None)
    assert stat.S_IMODE(embedded_db.SECRETS.stat().st_mode) == 0o600


def test_app_role_is_neither_superuser_nor_owner(db):
    """Connect exactly as the application does in production (no SET ROLE)."""
    conn = _app_connection()
    try:
        cur = conn.cursor()
        cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (False, False)
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM core_role")  # committed rows may exist; none without a tenant
        assert cur.fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO core_history (table_name, record_id, action, occurred_at, prev_hash, row_hash) "
                        "VALUES ('x', '1', 'I', now(), '', '')")
    finally:
        conn.close()


def test_seeded_roles_per_tenant(tenant, other_tenant):
    with tenant_context(tenant):
        codes = set(Role.objects.values_list("code", flat=True))
    assert codes == {
        "system_admin", "tenant_admin", "qa_manager", "qa_inspector", "production_manager", "operator",
        "document_controller", "engineering", "auditor", "customer",
    }
    with tenant_context(other_tenant):
        assert Role.objects.count() == 10

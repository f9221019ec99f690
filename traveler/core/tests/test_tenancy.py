"""Tenant isolation in the ORM and in PostgreSQL itself (row-level security as the app role)."""

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from traveler.core.models import Company, Role
from traveler.core.tenancy import TenantNotSet, tenant_context
from traveler.core.tests.factories import make_company


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


def test_every_tenant_owned_table_has_row_level_security(db):
    from traveler.core.dbobjects import tenant_owned_models

    tables = [m._meta.db_table for m in tenant_owned_models()]
    assert "core_company" in tables and "core_role" in tables
    with connection.cursor() as cur:
        cur.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relname = ANY(%s)", [tables])
        assert sorted(r[0] for r in cur.fetchall()) == sorted(tables)


def test_app_role_is_neither_superuser_nor_owner(db):
    """Connect exactly as the application does in production (no SET ROLE)."""
    db_settings = settings.DATABASES["default"]
    app = db_settings["TRAVELER_APP_USER"]
    conn = psycopg.connect(
        dbname=connection.settings_dict["NAME"], user=app, password=db_settings["TRAVELER_APP_PASSWORD"] or None,
        host=db_settings["HOST"], port=db_settings["PORT"] or None, autocommit=True)
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

"""The audit trail: every write recorded (ORM, bulk, raw SQL), append-only, verifiable."""

import pytest
from django.db import DatabaseError, connection, transaction

from traveler.core.models import Company, History
from traveler.core.services.audit import audit_verify
from traveler.core.services.companies import company_update
from traveler.core.tenancy import audit_reason, tenant_context
from traveler.core.tests.factories import make_company


def rows(obj):
    return list(History.objects.filter(table_name=obj._meta.db_table, record_id=str(obj.pk)).order_by("id"))


def test_save_records_actor_time_old_new_and_reason(tenant, admin):
    company = make_company(tenant, "Northwind")
    with tenant_context(tenant, actor=admin):
        company_update(company=company, version=1, data={"description": "fuel rails"}, reason="customer request 118")
        h = rows(company)
    assert [r.action for r in h] == ["I", "U"]
    assert h[1].actor_id == admin.pk
    assert h[1].reason == "customer request 118"
    assert h[1].changes == {"description": ("", "fuel rails")}
    assert h[1].occurred_at.utcoffset().total_seconds() == 0
    assert h[1].tenant_id == tenant.pk


def test_bulk_update_is_recorded_per_row(tenant, admin):
    a, b = make_company(tenant, "A"), make_company(tenant, "B")
    with tenant_context(tenant, actor=admin), transaction.atomic(), audit_reason("re-classified"):
        assert Company.objects.filter(pk__in=[a.pk, b.pk]).update(kind="supplier") == 2
        for c in (a, b):
            last = rows(c)[-1]
            assert last.action == "U" and last.changes == {"kind": ("customer", "supplier")}
            assert last.reason == "re-classified" and last.actor_id == admin.pk


def test_a_large_update_after_one_row_updates_pairs_each_row_with_its_old_values(tenant, admin):
    """The trigger's statements keep the plan of their first calls on a connection: after one-row
    updates, a many-row update still records each row's own old and new values, and only changed rows.
    (docs/benchmarks.md, Platform: this case once took 100 s for 2,000 rows; bench_platform times it.)"""
    with tenant_context(tenant, actor=admin):
        companies = Company.objects.bulk_create([Company(name=f"Plant {i:03}") for i in range(60)])
        for c in companies[:10]:
            Company.objects.filter(pk=c.pk).update(description="one row")
        Company.objects.filter(pk__in=[c.pk for c in companies[:50]]).update(description="many")
        for i, c in enumerate(companies):
            changes = [r.changes for r in rows(c) if r.action == "U"]
            assert changes == ([{"description": ("", "one row")}, {"description": ("one row", "many")}] if i < 10
                               else [{"description": ("", "many")}] if i < 50 else []), c.name
        Company.objects.filter(pk__in=[c.pk for c in companies[:5]]).update(description="many")  # no change
        assert [len(rows(c)) for c in companies[:5]] == [3] * 5


def test_raw_sql_is_recorded(tenant):
    c = make_company(tenant, "Raw")
    with tenant_context(tenant):
        with connection.cursor() as cur:
            cur.execute("UPDATE core_company SET description = 'by hand' WHERE id = %s", [c.pk])
            cur.execute("DELETE FROM core_company WHERE id = %s", [c.pk])
        h = rows(c)
    assert [r.action for r in h] == ["I", "U", "D"]
    assert h[1].changes == {"description": ("", "by hand")}
    assert h[2].old["name"] == "Raw" and h[2].new is None


def test_history_is_append_only_even_for_the_owner(tenant, as_owner):
    make_company(tenant, "Locked")
    for sql in ("UPDATE core_history SET reason = 'x'", "DELETE FROM core_history", "TRUNCATE core_history"):
        with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)


def test_history_is_invisible_across_tenants(tenant, other_tenant):
    make_company(tenant, "Visible only here")
    with tenant_context(other_tenant):
        assert not History.objects.filter(table_name="core_company", new__name="Visible only here").exists()


def _verify_as_owner(as_owner):
    with as_owner():
        return audit_verify()


def test_audit_verify_passes_on_an_untouched_trail(tenant, as_owner):
    c = make_company(tenant, "Clean")
    with tenant_context(tenant):
        company_update(company=c, version=1, data={"description": "one"})
    assert _verify_as_owner(as_owner) == []


def _tamper(as_owner, sql, params=()):
    with as_owner(), connection.cursor() as cur:
        cur.execute("ALTER TABLE core_history DISABLE TRIGGER USER")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE core_history ENABLE TRIGGER USER")


def test_audit_verify_detects_a_tampered_row(tenant, as_owner):
    c = make_company(tenant, "Tampered")
    with tenant_context(tenant):
        company_update(company=c, version=1, data={"description": "true value"})
        target = rows(c)[1]
    _tamper(as_owner, "UPDATE core_history SET reason = 'looks innocent' WHERE id = %s", [target.pk])
    problems = _verify_as_owner(as_owner)
    assert [(p.kind, p.history_id) for p in problems] == [("changed", target.pk)]


def test_audit_verify_detects_a_deleted_row(tenant, as_owner):
    c = make_company(tenant, "Gap")
    with tenant_context(tenant):
        company_update(company=c, version=1, data={"description": "one"})
        c.refresh_from_db()
        company_update(company=c, version=2, data={"description": "two"})
        h = rows(c)
    _tamper(as_owner, "DELETE FROM core_history WHERE id = %s", [h[1].pk])
    kinds = {p.kind for p in _verify_as_owner(as_owner)}
    assert "broken_chain" in kinds


def test_audit_verify_detects_deleting_the_last_change(tenant, as_owner):
    c = make_company(tenant, "Tail")
    with tenant_context(tenant):
        company_update(company=c, version=1, data={"description": "secret change"})
        h = rows(c)
    _tamper(as_owner, "DELETE FROM core_history WHERE id = %s", [h[-1].pk])
    problems = _verify_as_owner(as_owner)
    assert [p.kind for p in problems] == ["live_mismatch"]


def test_audit_verify_detects_an_injected_row(tenant, as_owner):
    c = make_company(tenant, "Injected")
    with tenant_context(tenant):
        last = rows(c)[-1]
    # A forged change appended with a correctly computed hash: the chain looks fine, but the
    # live record never had these values.
    _tamper(as_owner, """
        INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id, reason,
                                  occurred_at, prev_hash, row_hash)
        SELECT x.id, %(t)s, 'core_company', %(r)s, 'U', %(old)s::jsonb, %(new)s::jsonb, NULL, 'forged', x.at, %(prev)s,
               traveler_history_hash(%(prev)s, x.id, %(t)s, 'core_company', %(r)s, 'U', %(old)s::jsonb,
                                     %(new)s::jsonb, NULL, 'forged', x.at)
        FROM (SELECT nextval('core_history_id_seq') AS id, now() AS at) x
    """, {"t": tenant.pk, "r": str(c.pk), "old": '{"name": "Injected"}', "new": '{"name": "Forged"}',
          "prev": last.row_hash})
    problems = _verify_as_owner(as_owner)
    assert problems and all(p.record_id == str(c.pk) for p in problems)
    assert "live_mismatch" in {p.kind for p in problems}


def test_audit_verify_detects_a_row_injected_mid_chain(tenant, as_owner):
    c = make_company(tenant, "Mid")
    with tenant_context(tenant):
        company_update(company=c, version=1, data={"description": "x"})
        first = rows(c)[0]
    _tamper(as_owner, """
        INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id, reason,
                                  occurred_at, prev_hash, row_hash)
        VALUES (%s, %s, 'core_company', %s, 'U', '{}', '{}', NULL, '', now(), %s, 'f00')
    """, [first.pk + 1000000, tenant.pk, str(c.pk), first.row_hash])
    kinds = {p.kind for p in _verify_as_owner(as_owner)}
    assert {"changed", "broken_chain"} <= kinds


def test_audit_verify_command_exit_status(tenant, as_owner):
    from django.core.management import CommandError, call_command

    c = make_company(tenant, "Cmd")
    with as_owner():
        call_command("audit_verify")
    _tamper(as_owner, "UPDATE core_history SET reason = 'edited' WHERE table_name = 'core_company' AND record_id = %s",
            [str(c.pk)])
    with as_owner(), pytest.raises(CommandError, match="FAILED"):
        call_command("audit_verify")


def test_passwords_are_not_in_the_history(tenant, admin, as_owner):
    with as_owner():
        h = History.objects.filter(table_name="core_user", record_id=str(admin.pk)).first()
    assert h is not None and "password" not in h.new and h.new["email"] == admin.email


def test_the_app_role_cannot_forge_history_through_a_temporary_table(tenant, other_tenant, as_owner):
    """A temporary table named like an audited one, with a trigger calling the audit function, once let
    the app role write a "scrapped, then restored" history for another tenant's record that
    ``audit_verify`` accepted. Each of the three walls is checked alone, as the app role."""
    theirs = make_company(other_tenant, "Theirs")
    app = connection.settings_dict["TRAVELER_APP_USER"]
    forge = [
        "CREATE TEMP TABLE core_company (id bigint PRIMARY KEY, tenant_id bigint, name text)",
        "CREATE TRIGGER forged AFTER UPDATE ON pg_temp.core_company REFERENCING OLD TABLE AS old_rows "
        "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION traveler_audit('id', '{}')",
        f"INSERT INTO pg_temp.core_company VALUES ({theirs.pk}, {other_tenant.pk}, 'Theirs')",
        "UPDATE pg_temp.core_company SET name = 'scrapped'",
        "UPDATE pg_temp.core_company SET name = 'Theirs'",
    ]

    def attempt(expected: str) -> None:
        with tenant_context(tenant), pytest.raises(DatabaseError, match=expected), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT current_user")
                assert cur.fetchone()[0] == app
                for sql in forge:
                    cur.execute(sql)

    attempt("permission denied to create temporary tables")  # 1. no temporary tables
    with as_owner(), connection.cursor() as cur:  # lift wall 1 (rolled back with the test)
        cur.execute(f'GRANT TEMPORARY ON DATABASE "{connection.settings_dict["NAME"]}" TO "{app}"')
    attempt("permission denied for function traveler_audit")  # 2. no EXECUTE on the audit function
    with as_owner(), connection.cursor() as cur:  # lift wall 2 as well
        cur.execute(f'GRANT EXECUTE ON FUNCTION traveler_audit() TO "{app}"')
    attempt("not an audited table")  # 3. the trigger checks the OID of the table it fires on
    with as_owner():
        assert audit_verify() == []
        assert [(h.action, h.new["name"]) for h in History.objects.filter(
            table_name="core_company", record_id=str(theirs.pk)).order_by("id")] == [("I", "Theirs")]


def test_history_names_the_signed_actor_not_a_setting_set_by_hand(tenant, admin, as_owner):
    company = make_company(tenant, "Signed")
    with tenant_context(tenant, actor=admin), connection.cursor() as cur:
        cur.execute("SELECT set_config('traveler.actor_id', '999999', false)")  # no longer read
        cur.execute("UPDATE core_company SET description = 'x' WHERE id = %s", [company.pk])
    with as_owner():
        assert rows(company)[-1].actor_id == admin.pk

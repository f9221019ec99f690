"""Database objects Traveler keeps in step with the models after every ``migrate``.

* the audit trail: statement-level triggers (with transition tables, so bulk ``update()`` and raw
  SQL are recorded at the cost of one extra statement, not one per row) on every audited table,
  writing to the append-only ``core_history``;
* row-level-security policies on every tenant-owned table;
* the privileges of the application role: read/write on the tables, read-only on the history.

Module authors write none of this: subclassing ``TenantModel`` (or setting ``audited = True``) is
enough.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings

from traveler.core.models.base import TenantModel

HASH_SQL = """
CREATE OR REPLACE FUNCTION traveler_history_hash(
    prev text, hid bigint, tenant bigint, tbl text, rec text, act text, o jsonb, n jsonb,
    actor bigint, reason text, at timestamptz
) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws('|',
      prev, hid::text, coalesce(tenant::text, ''), tbl, rec, act,
      coalesce(o::text, ''), coalesce(n::text, ''), coalesce(actor::text, ''), coalesce(reason, ''),
      to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION traveler_current_tenant() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('traveler.tenant_id', true), '')::bigint
$$;

CREATE OR REPLACE FUNCTION traveler_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'core_history is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# One function serves every audited table; the trigger passes the primary-key column name.
AUDIT_SQL = """
CREATE OR REPLACE FUNCTION traveler_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  pk text := TG_ARGV[0];
  ex text[] := coalesce(TG_ARGV[1], '{}')::text[];
  actor bigint := NULLIF(current_setting('traveler.actor_id', true), '')::bigint;
  why text := coalesce(current_setting('traveler.reason', true), '');
BEGIN
  -- Each statement runs through EXECUTE, so it is planned for the transition tables' row counts of
  -- this call. A statement written inline would keep the plan of the first call on the connection:
  -- after a one-row update, a 10,000-row update would join every old row to every new one.
  -- Parameters: $1 table name, $2 actor, $3 reason, $4 primary-key column, $5 excluded columns.
  IF TG_OP = 'INSERT' THEN
    EXECUTE $q$
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, $1, c.rec, 'I', NULL, c.n, $2, $3, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, $1, c.rec, 'I', NULL, c.n, $2, $3, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.n, j.rec, (j.n->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = $1 AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT x.n, x.n->>$4 AS rec FROM (SELECT to_jsonb(r) - $5 AS n FROM new_rows r) x) j
    ) c
    $q$ USING TG_TABLE_NAME, actor, why, pk, ex;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE $q$
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, $1, c.rec, 'U', c.o, c.n, $2, $3, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, $1, c.rec, 'U', c.o, c.n, $2, $3, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.o, j.n, j.rec, (j.n->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = $1 AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT a.o, b.n, b.rec
            FROM (SELECT to_jsonb(o) - $5 AS o FROM old_rows o) a
            JOIN (SELECT x.n, x.n->>$4 AS rec FROM (SELECT to_jsonb(n) - $5 AS n FROM new_rows n) x) b
              ON a.o->>$4 = b.rec) j
      WHERE j.o IS DISTINCT FROM j.n
    ) c
    $q$ USING TG_TABLE_NAME, actor, why, pk, ex;
  ELSE
    EXECUTE $q$
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, $1, c.rec, 'D', c.o, NULL, $2, $3, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, $1, c.rec, 'D', c.o, NULL, $2, $3, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.o, j.rec, (j.o->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = $1 AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT x.o, x.o->>$4 AS rec FROM (SELECT to_jsonb(r) - $5 AS o FROM old_rows r) x) j
    ) c
    $q$ USING TG_TABLE_NAME, actor, why, pk, ex;
  END IF;
  RETURN NULL;
END $$;
"""


def audited_models() -> list:
    return [
        m for m in apps.get_models()
        if (issubclass(m, TenantModel) or getattr(m, "audited", False)) and m._meta.managed
    ]


def tenant_owned_models() -> list:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) and m._meta.managed]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sync_database_objects(connection) -> None:
    """Install or refresh functions, triggers, policies and grants. Idempotent."""
    app_role = settings.DATABASES["default"].get("TRAVELER_APP_USER") or "traveler_app"
    with connection.cursor() as cur:
        cur.execute(HASH_SQL)
        cur.execute(AUDIT_SQL)
        cur.execute(
            """
            DROP TRIGGER IF EXISTS core_history_no_change ON core_history;
            CREATE TRIGGER core_history_no_change BEFORE UPDATE OR DELETE ON core_history
              FOR EACH ROW EXECUTE FUNCTION traveler_history_append_only();
            DROP TRIGGER IF EXISTS core_history_no_truncate ON core_history;
            CREATE TRIGGER core_history_no_truncate BEFORE TRUNCATE ON core_history
              FOR EACH STATEMENT EXECUTE FUNCTION traveler_history_append_only();
            """
        )
        for model in audited_models():
            table, pk = model._meta.db_table, model._meta.pk.column
            t = _q(table)
            exclude = "{" + ",".join(getattr(model, "audit_exclude", ())) + "}"
            for op, ref in (
                ("INSERT", "NEW TABLE AS new_rows"),
                ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                ("DELETE", "OLD TABLE AS old_rows"),
            ):
                trig = _q(f"traveler_audit_{op.lower()}")
                cur.execute(
                    f"DROP TRIGGER IF EXISTS {trig} ON {t}; "
                    f"CREATE TRIGGER {trig} AFTER {op} ON {t} REFERENCING {ref} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION traveler_audit('{pk}', '{exclude}')"
                )
        for model in tenant_owned_models():
            t = _q(model._meta.db_table)
            cur.execute(
                f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; "
                f"DROP POLICY IF EXISTS tenant_isolation ON {t}; "
                f"CREATE POLICY tenant_isolation ON {t} "
                f"USING (tenant_id = traveler_current_tenant()) "
                f"WITH CHECK (tenant_id = traveler_current_tenant())"
            )
        # The history is tenant-isolated too; rows of global records (users, tenants) carry no
        # tenant and are read only by the owner role (audit_verify, system administration).
        cur.execute(
            "ALTER TABLE core_history ENABLE ROW LEVEL SECURITY; "
            "DROP POLICY IF EXISTS tenant_isolation ON core_history; "
            "CREATE POLICY tenant_isolation ON core_history FOR SELECT "
            "USING (tenant_id = traveler_current_tenant())"
        )
        role = _q(app_role)
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cur.fetchone():
            cur.execute(
                f"GRANT USAGE ON SCHEMA public TO {role}; "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; "
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}; "
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON core_history FROM {role}; "
                f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {role}; "
                f"REVOKE USAGE, UPDATE ON SEQUENCE core_history_id_seq FROM {role}"
            )

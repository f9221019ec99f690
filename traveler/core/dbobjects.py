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
  -- PL/pgSQL keeps each statement's plan for the connection, made for the transition tables of its
  -- first calls (usually one row). So no statement here joins the transition tables: an update pairs
  -- each new row with its old one by key lookup in one JSON object of the old rows, which costs the
  -- same per row whatever plan was made. (A join planned for one row, run on 2,000, compared every
  -- old row with every new one: 100 s instead of 0.3 s.)
  IF TG_OP = 'INSERT' THEN
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'I', NULL, c.n, actor, why, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'I', NULL, c.n,
                                 actor, why, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.n, j.rec, (j.n->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = TG_TABLE_NAME AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT x.n, x.n->>pk AS rec FROM (SELECT to_jsonb(r) - ex AS n FROM new_rows r) x) j
    ) c;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'U', c.o, c.n, actor, why, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'U', c.o, c.n,
                                 actor, why, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.o, j.n, j.rec, (j.n->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = TG_TABLE_NAME AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT olds.m -> b.rec AS o, b.n, b.rec
            FROM (SELECT jsonb_object_agg(x.o->>pk, x.o) AS m
                  FROM (SELECT to_jsonb(r) - ex AS o FROM old_rows r) x) olds
            CROSS JOIN (SELECT x.n, x.n->>pk AS rec FROM (SELECT to_jsonb(r) - ex AS n FROM new_rows r) x) b) j
      WHERE j.o IS DISTINCT FROM j.n
    ) c;
  ELSE
    INSERT INTO core_history (id, tenant_id, table_name, record_id, action, old, new, actor_id,
                              reason, occurred_at, prev_hash, row_hash)
    SELECT c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'D', c.o, NULL, actor, why, now(), c.prev,
           traveler_history_hash(c.prev, c.hid, c.tenant, TG_TABLE_NAME, c.rec, 'D', c.o, NULL,
                                 actor, why, now())
    FROM (
      SELECT nextval('core_history_id_seq') AS hid, j.o, j.rec, (j.o->>'tenant_id')::bigint AS tenant,
             coalesce((SELECT h.row_hash FROM core_history h
                       WHERE h.table_name = TG_TABLE_NAME AND h.record_id = j.rec
                       ORDER BY h.id DESC LIMIT 1), '') AS prev
      FROM (SELECT x.o, x.o->>pk AS rec FROM (SELECT to_jsonb(r) - ex AS o FROM old_rows r) x) j
    ) c;
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

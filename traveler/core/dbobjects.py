"""Database objects Traveler keeps in step with the models after every ``migrate``.

* the audit trail: statement-level triggers (with transition tables, so bulk ``update()`` and raw
  SQL are recorded at the cost of one extra statement, not one per row) on every audited table,
  writing to the append-only ``core_history``;
* the signed tenant context: ``traveler.context`` carries ``tenant:actor:mac``, where the MAC is an
  HMAC-SHA256 over (tenant, actor, backend pid) keyed by a secret kept in the owner-only table
  ``traveler_context_key``; ``traveler_current_tenant()`` / ``traveler_current_actor()`` verify it;
* row-level-security policies on every table with a ``tenant_id`` column;
* frozen rows (a model's ``frozen_columns`` once its ``state`` is one of ``frozen_states``: a released
  document revision's file) and append-only tables (``append_only = True``), refused by triggers;
* two narrow SECURITY DEFINER functions for the flows that start before a tenant is known: the job
  worker's claim and the API token look-up;
* the privileges of the application role: read/write on the tables, read-only on the history, no
  temporary tables, no EXECUTE on the audit functions.

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

CREATE TABLE IF NOT EXISTS traveler_context_key (
  id int PRIMARY KEY CHECK (id = 1),
  ipad bytea NOT NULL,
  opad bytea NOT NULL
);

-- The verified (tenant, actor) of this session, or NULL when no signed context is set. A value that
-- is set but not signed for this backend by this installation's key is an error, never a tenant.
-- PARALLEL RESTRICTED: pg_backend_pid() differs in a parallel worker; the policies call it once per
-- statement, in the leader, through an initplan (``tenant_id = (SELECT traveler_current_tenant())``).
CREATE OR REPLACE FUNCTION traveler_context() RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v text := current_setting('traveler.context', true);
  p text[];
  k record;
BEGIN
  IF v IS NULL OR v = '' THEN
    RETURN NULL;
  END IF;
  p := string_to_array(v, ':');
  IF array_length(p, 1) = 3 AND p[1] ~ '^[0-9]*$' AND p[2] ~ '^[0-9]*$' THEN
    SELECT ipad, opad INTO k FROM public.traveler_context_key WHERE id = 1;
    IF k.ipad IS NOT NULL AND encode(sha256(k.opad || sha256(k.ipad || convert_to(
         p[1] || ':' || p[2] || ':' || pg_backend_pid()::text, 'UTF8'))), 'hex') = p[3] THEN
      RETURN ARRAY[p[1], p[2]];
    END IF;
  END IF;
  RAISE EXCEPTION 'traveler.context is not signed for this session by this installation'
    USING ERRCODE = 'insufficient_privilege';
END $$;

-- The three below are plain SQL, inlined where they are called; only traveler_context() runs as the owner.
CREATE OR REPLACE FUNCTION traveler_current_tenant() RETURNS bigint
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT NULLIF((public.traveler_context())[1], '')::bigint
$$;

CREATE OR REPLACE FUNCTION traveler_current_actor() RETURNS bigint
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT NULLIF((public.traveler_context())[2], '')::bigint
$$;

-- True in a signed context, with or without a tenant (the worker's and sign-in's system context).
CREATE OR REPLACE FUNCTION traveler_context_signed() RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT public.traveler_context() IS NOT NULL
$$;

-- The worker claims the next due job of any tenant; it then reads and finishes the job inside that
-- job's tenant context, where the policy lets it see the row.
DROP FUNCTION IF EXISTS traveler_job_claim(text);
-- A due job is a queued one whose time has come, or a running one whose lease expired (its worker
-- stopped): that one runs again as a new attempt, or is dead when it had no attempt left.
CREATE OR REPLACE FUNCTION traveler_job_claim(worker text, lease_seconds double precision)
RETURNS TABLE (job_id bigint, job_tenant bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  j public.core_job%ROWTYPE;
  lost text;
BEGIN
  LOOP
    SELECT * INTO j FROM public.core_job q
     WHERE (q.status = 'queued' AND q.run_at <= clock_timestamp())
        OR (q.status = 'running' AND (q.lease_expires_at IS NULL OR q.lease_expires_at < clock_timestamp()))
     ORDER BY q.run_at, q.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    lost := NULL;
    IF j.status = 'running' THEN
      lost := format('the lease of worker %s expired during attempt %s/%s (the worker stopped)',
                     coalesce(nullif(j.locked_by, ''), '?'), j.attempts, j.max_attempts);
      IF j.attempts >= j.max_attempts THEN
        UPDATE public.core_job SET status = 'dead', last_error = lost, finished_at = clock_timestamp(),
               locked_by = '', lease_expires_at = NULL
         WHERE id = j.id;
        CONTINUE;
      END IF;
    END IF;
    UPDATE public.core_job
       SET status = 'running', attempts = j.attempts + 1, locked_by = worker, locked_at = clock_timestamp(),
           lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds),
           last_error = coalesce(lost, j.last_error)
     WHERE id = j.id;
    job_id := j.id;
    job_tenant := j.tenant_id;
    RETURN NEXT;
    RETURN;
  END LOOP;
END $$;

-- Token authentication: only who holds the token learns its user and tenant.
CREATE OR REPLACE FUNCTION traveler_token_owner(token_prefix text, token_hash text)
RETURNS TABLE (token_id bigint, token_tenant bigint, token_user bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT t.id, t.tenant_id, t.user_id FROM public.core_apitoken t
   WHERE t.prefix = token_prefix AND t.key_hash = token_hash
$$;

CREATE OR REPLACE FUNCTION traveler_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'core_history is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

-- Any table a model declares ``append_only``: rows are added, never changed or removed.
CREATE OR REPLACE FUNCTION traveler_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

-- A row whose state column (TG_ARGV[0]) holds one of the frozen states (TG_ARGV[1]) keeps the frozen
-- columns (TG_ARGV[2]) as they are, stays in a frozen state and is never deleted: a released
-- document revision's file can be changed by nobody, raw SQL included.
CREATE OR REPLACE FUNCTION traveler_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  state_col text := TG_ARGV[0];
  states text[] := TG_ARGV[1]::text[];
  cols text[] := TG_ARGV[2]::text[];
  o jsonb := to_jsonb(OLD);
  n jsonb;
  c text;
BEGIN
  IF NOT (o->>state_col = ANY(states)) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION '%: row % is % and cannot be deleted', TG_TABLE_NAME, o->>'id', o->>state_col
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  n := to_jsonb(NEW);
  IF NOT (n->>state_col = ANY(states)) THEN
    RAISE EXCEPTION '%: row % is % and cannot go back to %', TG_TABLE_NAME, o->>'id', o->>state_col, n->>state_col
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  FOREACH c IN ARRAY cols LOOP
    IF o->c IS DISTINCT FROM n->c THEN
      RAISE EXCEPTION '%: % of row % is frozen once %', TG_TABLE_NAME, c, o->>'id', o->>state_col
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
"""

# One function serves every audited table; the trigger passes the primary-key column name.
AUDIT_SQL = """
CREATE OR REPLACE FUNCTION traveler_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  pk text := TG_ARGV[0];
  ex text[] := coalesce(TG_ARGV[1], '{}')::text[];
  actor bigint := traveler_current_actor();
  why text := coalesce(current_setting('traveler.reason', true), '');
  -- The look-up of a record's previous history row must use the index on (table_name, record_id):
  -- * TG_TABLE_NAME is of type name (collation "C"); compared as it is with the varchar column, that
  --   index cannot serve;
  -- * ordered by plain id, the planner may prefer to walk the primary key backwards, filtering every
  --   row, whenever its statistics of the history are stale (a long transaction that writes many
  --   rows: a bulk import, a test): it costs a scan of the history per row written. Ordered by an
  --   expression of id, only the record index is worth it; a record's rows are few to sort.
  tbl text := TG_TABLE_NAME::text COLLATE "default";
BEGIN
  -- Only the real audited tables, found by OID: not a temporary table or another schema's table
  -- that borrows an audited table's name to write history in its name.
  IF TG_TABLE_SCHEMA IS DISTINCT FROM 'public'
     OR TG_RELID IS DISTINCT FROM to_regclass(format('public.%I', TG_TABLE_NAME))
     OR (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID)
        IS DISTINCT FROM (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user) THEN
    RAISE EXCEPTION 'traveler_audit fired on %.%, which is not an audited table', TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
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
                       WHERE h.table_name = tbl AND h.record_id = j.rec
                       ORDER BY h.id * 1 DESC LIMIT 1), '') AS prev
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
                       WHERE h.table_name = tbl AND h.record_id = j.rec
                       ORDER BY h.id * 1 DESC LIMIT 1), '') AS prev
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
                       WHERE h.table_name = tbl AND h.record_id = j.rec
                       ORDER BY h.id * 1 DESC LIMIT 1), '') AS prev
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


def frozen_models() -> list:
    """Models that declare ``frozen_columns`` and ``frozen_states`` (a ``state`` field): see traveler_frozen()."""
    return [m for m in apps.get_models() if getattr(m, "frozen_columns", None) and m._meta.managed]


def append_only_models() -> list:
    """Models that declare ``append_only = True``: the database refuses UPDATE, DELETE and TRUNCATE."""
    return [m for m in apps.get_models() if getattr(m, "append_only", False) and m._meta.managed]


# A row of these tables is also visible to the user it belongs to, whatever the current tenant:
# sign-in lists the tenants a user belongs to before one is chosen.
OWN_ROWS = {"core_membership": "user_id"}
TENANT = "(SELECT traveler_current_tenant())"


def tenant_column_models() -> list:
    """Every managed model with a ``tenant_id`` column: tenant-owned models and platform tables."""
    return [
        m for m in apps.get_models()
        if m._meta.managed and any(f.column == "tenant_id" for f in m._meta.concrete_fields)
    ]


def tenant_policy(model) -> tuple[str, str]:
    """The USING and WITH CHECK expressions of ``model``'s row-level-security policy.

    Each function is wrapped in a sub-select so PostgreSQL evaluates it once per statement.
    A table whose tenant may be empty (jobs, events of the platform itself) keeps its tenant-less
    rows for the signed context without a tenant: the worker's.
    """
    field = next(f for f in model._meta.concrete_fields if f.column == "tenant_id")
    check = f"tenant_id = {TENANT}"
    if field.null:
        check = f"({check} OR (tenant_id IS NULL AND {TENANT} IS NULL AND (SELECT traveler_context_signed())))"
    using = check
    own = OWN_ROWS.get(model._meta.db_table)
    if own:
        using = f"({check} OR {own} = (SELECT traveler_current_actor()))"
    return using, check


def context_key_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), stored so SQL needs only sha256()."""
    import hashlib

    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


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
        for model in frozen_models():
            t = _q(model._meta.db_table)
            state = model._meta.get_field("state").column
            states = "{" + ",".join(str(v) for v in model.frozen_states) + "}"
            cols = "{" + ",".join(model._meta.get_field(c).column for c in model.frozen_columns) + "}"
            cur.execute(
                f"DROP TRIGGER IF EXISTS traveler_frozen ON {t}; "
                f"CREATE TRIGGER traveler_frozen BEFORE UPDATE OR DELETE ON {t} "
                f"FOR EACH ROW EXECUTE FUNCTION traveler_frozen('{state}', '{states}', '{cols}')"
            )
        for model in append_only_models():
            t = _q(model._meta.db_table)
            cur.execute(
                f"DROP TRIGGER IF EXISTS traveler_append_only ON {t}; "
                f"CREATE TRIGGER traveler_append_only BEFORE UPDATE OR DELETE ON {t} "
                f"FOR EACH ROW EXECUTE FUNCTION traveler_append_only(); "
                f"DROP TRIGGER IF EXISTS traveler_append_only_truncate ON {t}; "
                f"CREATE TRIGGER traveler_append_only_truncate BEFORE TRUNCATE ON {t} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION traveler_append_only()"
            )
        for model in tenant_column_models():
            t = _q(model._meta.db_table)
            using, check = tenant_policy(model)
            cur.execute(
                f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; "
                f"DROP POLICY IF EXISTS tenant_isolation ON {t}; "
                f"CREATE POLICY tenant_isolation ON {t} USING ({using}) WITH CHECK ({check})"
            )
        # The history is tenant-isolated too; rows of global records (users, tenants) carry no
        # tenant and are read only by the owner role (audit_verify, system administration).
        cur.execute(
            "ALTER TABLE core_history ENABLE ROW LEVEL SECURITY; "
            "DROP POLICY IF EXISTS tenant_isolation ON core_history; "
            "CREATE POLICY tenant_isolation ON core_history FOR SELECT "
            f"USING (tenant_id = {TENANT})"
        )
        from traveler.core.tenancy import context_key

        ipad, opad = context_key_pads(context_key())
        cur.execute(
            "INSERT INTO traveler_context_key (id, ipad, opad) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET ipad = EXCLUDED.ipad, opad = EXCLUDED.opad",
            [ipad, opad],
        )
        # Nobody but the owner runs the audit functions or makes temporary tables (a temporary
        # table named like an audited one was a way to write history for another tenant's record).
        cur.execute(
            "REVOKE EXECUTE ON FUNCTION traveler_audit(), traveler_history_append_only(), traveler_append_only(), "
            "traveler_frozen(), "
            "traveler_history_hash(text, bigint, bigint, text, text, text, jsonb, jsonb, bigint, text, timestamptz), "
            "traveler_context(), traveler_current_tenant(), traveler_current_actor(), traveler_context_signed(), "
            "traveler_job_claim(text, double precision), traveler_token_owner(text, text) FROM PUBLIC; "
            "REVOKE ALL ON traveler_context_key FROM PUBLIC; "
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC; "
            "DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$"
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
                + "".join(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_q(m._meta.db_table)} FROM {role}; "
                          for m in append_only_models())
                + f"REVOKE USAGE, UPDATE ON SEQUENCE core_history_id_seq FROM {role}; "
                f"REVOKE ALL ON traveler_context_key FROM {role}; "
                f"REVOKE EXECUTE ON FUNCTION traveler_audit(), traveler_history_append_only(), traveler_append_only(), "
                f"traveler_frozen() FROM {role}; "
                f"GRANT EXECUTE ON FUNCTION traveler_context(), traveler_current_tenant(), traveler_current_actor(), "
                f"traveler_context_signed(), traveler_job_claim(text, double precision), traveler_token_owner(text, text) TO {role}; "
                f"DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM {role}', current_database()); END $$"
            )

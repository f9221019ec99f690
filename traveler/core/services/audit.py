"""Checking the audit trail's integrity.

Each history row carries ``row_hash`` = sha256 over its content and ``prev_hash``, the hash of the
previous change of the same record. ``audit_verify`` recomputes all of it in the database:

* a row whose content no longer matches its hash was **changed**;
* a row whose ``prev_hash`` is not the hash of the record's previous row means a row was
  **removed** before it, or it was **inserted** out of band;
* an update whose old values differ from the previous row's new values means a change is missing;
* a record whose live row no longer matches the last history row was changed without the trail,
  or the trail's last rows were removed or forged.

It needs to read every tenant's rows, so it runs as the database owner (``./dev manage
audit_verify`` does that).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from traveler.core.dbobjects import audited_models


@dataclass(frozen=True)
class Problem:
    kind: str  # changed | broken_chain | missing_change | live_mismatch | untracked
    table: str
    record_id: str
    history_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"history #{self.history_id}" if self.history_id else "live row"
        return f"{self.kind}: {self.table} record {self.record_id} ({where}): {self.detail}"


CHAIN_SQL = """
WITH h AS (
  SELECT id, table_name, record_id, action, old, new, prev_hash, row_hash,
         traveler_history_hash(prev_hash, id, tenant_id, table_name, record_id, action, old, new,
                               actor_id, reason, occurred_at) AS computed,
         lag(row_hash) OVER w AS expected_prev,
         lag(new) OVER w AS previous_new,
         lag(action) OVER w AS previous_action
  FROM core_history
  WINDOW w AS (PARTITION BY table_name, record_id ORDER BY id)
)
SELECT id, table_name, record_id,
       row_hash <> computed AS changed,
       prev_hash <> coalesce(expected_prev, '') AS broken,
       action IN ('U', 'D') AND previous_action IS NOT NULL AND previous_action <> 'D'
         AND old IS DISTINCT FROM previous_new AS gap
FROM h
WHERE row_hash <> computed OR prev_hash <> coalesce(expected_prev, '')
   OR (action IN ('U', 'D') AND previous_action IS NOT NULL AND previous_action <> 'D'
       AND old IS DISTINCT FROM previous_new)
ORDER BY id
"""

# The live row must agree with the last history row on every column both know (columns added by
# later migrations, or excluded from the trail such as password hashes, are not compared).
LIVE_SQL = """
WITH last AS (
  SELECT DISTINCT ON (record_id) record_id, id, action, new
  FROM core_history WHERE table_name = %(table)s
  ORDER BY record_id, id DESC
),
live AS (SELECT to_jsonb(t) AS j, (to_jsonb(t)->>%(pk)s) AS record_id FROM {table} t)
SELECT coalesce(last.record_id, live.record_id), last.id,
       CASE WHEN last.record_id IS NULL THEN 'untracked'
            WHEN live.record_id IS NULL AND last.action <> 'D' THEN 'missing'
            WHEN live.record_id IS NOT NULL AND last.action = 'D' THEN 'resurrected'
            ELSE 'differs' END
FROM last FULL JOIN live ON live.record_id = last.record_id
WHERE last.record_id IS NULL
   OR (live.record_id IS NULL AND last.action <> 'D')
   OR (live.record_id IS NOT NULL AND last.action = 'D')
   OR (live.record_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM jsonb_each(last.new) e
        WHERE live.j ? e.key AND live.j -> e.key IS DISTINCT FROM e.value))
ORDER BY 1
"""

LIVE_DETAIL = {
    "untracked": "the row exists but the history has no record of it",
    "missing": "the row is gone but the history has no deletion",
    "resurrected": "the history says the row was deleted but it exists",
    "differs": "the row's values differ from its last recorded change",
}


def audit_verify() -> list[Problem]:
    problems: list[Problem] = []
    with connection.cursor() as cur:
        cur.execute(CHAIN_SQL)
        for hid, table, rec, changed, broken, gap in cur.fetchall():
            if changed:
                problems.append(Problem("changed", table, rec, hid, "content does not match its hash"))
            if broken:
                problems.append(Problem("broken_chain", table, rec, hid,
                                        "does not follow the record's previous change: a row was removed before "
                                        "it or it was inserted out of band"))
            if gap and not broken:
                problems.append(Problem("missing_change", table, rec, hid,
                                        "old values differ from the previous change's new values"))
        for model in audited_models():
            table = model._meta.db_table
            cur.execute(
                LIVE_SQL.format(table=connection.ops.quote_name(table)),
                {"table": table, "pk": model._meta.pk.column},
            )
            for rec, hid, kind in cur.fetchall():
                problems.append(Problem("live_mismatch" if kind != "untracked" else "untracked", table, rec, hid,
                                        LIVE_DETAIL[kind]))
    return problems


def history_count() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM core_history")
        return cur.fetchone()[0]

"""Quality keeps each part's first departure from each step as the traveler writes it.

First-pass yield counts, per step, the parts whose first departure from the step (the earliest log
row leaving it, by time then id) falls in the period. Deriving those from the whole transition log on
every request cost about 180-400 ms with one million log rows (docs/benchmarks.md); the table
``qms_firstdeparture`` holds them instead, one row per (tenant, step, part), and ``qms_firstpasscount``
their number (and how many passed) per tenant, step and UTC hour, so that the dashboard adds up the
period's hours (a few thousand rows) instead of counting its first departures (800,000 there).

* ``qms_first_departures``: a statement-level trigger AFTER INSERT on mes_lite's transition log (its
  new rows as a transition table: a bulk advance of 500 parts is one statement) that inserts the first
  departure of each (step, part) among the new rows, in the same transaction (a rollback leaves
  nothing). A (step, part) that has one already keeps it, unless the new row is earlier (by time, then
  id): the traveler writes departures in order, but an import or a script may back-date one.
* ``qms_first_pass_counts_insert`` / ``_update`` / ``_delete``: statement-level triggers on
  ``qms_firstdeparture`` that add each statement's inserted, replaced and removed first departures to
  the hourly counts, with their sign, in the same transaction.
* ``qms_first_departures_update`` / ``_delete``: the traveler never changes nor removes a log row; if
  a script does, the first departures of the (step, part)s concerned are found again from the log.
* the backfill: the first departures of the log as it is, in one ``INSERT ... SELECT DISTINCT ON``
  (its statement trigger fills the hourly counts).
* the index of migration 0006 (which served the derivation) is dropped.

The triggers are quality's, on mes_lite's table (mes_lite does not know quality exists); they run as
the writer, so row-level security applies to what they read and write.
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

# The hourly counts follow the first departures: each statement's inserted, replaced and removed first
# departures, added up per (tenant, step, hour) with their sign. The actions that pass are those of
# ``services.analytics.FIRST_PASS_ACTIONS`` (a test holds them equal). Ordered by key: two statements
# that add to the same hours lock their counts in the same order.
COUNTS = """
CREATE OR REPLACE FUNCTION qms_first_pass_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO qms_firstpasscount AS c (tenant_id, hour, step_id, parts, passed)
    SELECT tenant_id, date_bin('1 hour', departed_at, timestamptz '2000-01-01 00:00+00'), step_id, count(*),
           count(*) FILTER (WHERE action IN ('advance', 'complete'))
      FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, hour, step_id) DO UPDATE
      SET parts = c.parts + EXCLUDED.parts, passed = c.passed + EXCLUDED.passed;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO qms_firstpasscount AS c (tenant_id, hour, step_id, parts, passed)
    SELECT tenant_id, hour, step_id, sum(n), sum(p)
      FROM (SELECT tenant_id, date_bin('1 hour', departed_at, timestamptz '2000-01-01 00:00+00') AS hour, step_id,
                   -1 AS n, -(action IN ('advance', 'complete'))::int AS p FROM old_rows
            UNION ALL
            SELECT tenant_id, date_bin('1 hour', departed_at, timestamptz '2000-01-01 00:00+00'), step_id,
                   1, (action IN ('advance', 'complete'))::int FROM new_rows) d
     GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(p) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, hour, step_id) DO UPDATE
      SET parts = c.parts + EXCLUDED.parts, passed = c.passed + EXCLUDED.passed;
  ELSE
    INSERT INTO qms_firstpasscount AS c (tenant_id, hour, step_id, parts, passed)
    SELECT tenant_id, date_bin('1 hour', departed_at, timestamptz '2000-01-01 00:00+00'), step_id, -count(*),
           -count(*) FILTER (WHERE action IN ('advance', 'complete'))
      FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, hour, step_id) DO UPDATE
      SET parts = c.parts + EXCLUDED.parts, passed = c.passed + EXCLUDED.passed;
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS qms_first_pass_counts_insert ON qms_firstdeparture;
CREATE TRIGGER qms_first_pass_counts_insert AFTER INSERT ON qms_firstdeparture
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qms_first_pass_counts();
DROP TRIGGER IF EXISTS qms_first_pass_counts_update ON qms_firstdeparture;
CREATE TRIGGER qms_first_pass_counts_update AFTER UPDATE ON qms_firstdeparture
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qms_first_pass_counts();
DROP TRIGGER IF EXISTS qms_first_pass_counts_delete ON qms_firstdeparture;
CREATE TRIGGER qms_first_pass_counts_delete AFTER DELETE ON qms_firstdeparture
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qms_first_pass_counts();
"""
DROP_COUNTS = """
DROP TRIGGER IF EXISTS qms_first_pass_counts_insert ON qms_firstdeparture;
DROP TRIGGER IF EXISTS qms_first_pass_counts_update ON qms_firstdeparture;
DROP TRIGGER IF EXISTS qms_first_pass_counts_delete ON qms_firstdeparture;
DROP FUNCTION IF EXISTS qms_first_pass_counts();
"""

# The first departures among ``keys`` found again from the log (after an update or delete of log rows).
RECOMPUTE = """
CREATE OR REPLACE FUNCTION qms_first_departures_recompute(tenants bigint[], steps bigint[], parts bigint[])
RETURNS void LANGUAGE sql AS $$
  WITH k AS (SELECT DISTINCT * FROM unnest(tenants, steps, parts) AS k (tenant_id, step_id, part_id)),
  firsts AS (
    SELECT DISTINCT ON (l.tenant_id, l.from_step_id, l.part_id)
           l.tenant_id, l.from_step_id, l.part_id, l.id, l.transition_time, l.action
      FROM k JOIN mes_lite_steptransitionlog l
        ON l.part_id = k.part_id AND l.from_step_id = k.step_id AND l.tenant_id = k.tenant_id
     ORDER BY l.tenant_id, l.from_step_id, l.part_id, l.transition_time, l.id
  ),
  gone AS (
    DELETE FROM qms_firstdeparture f USING k
     WHERE f.tenant_id = k.tenant_id AND f.step_id = k.step_id AND f.part_id = k.part_id
       AND NOT EXISTS (SELECT 1 FROM firsts x WHERE x.tenant_id = k.tenant_id AND x.from_step_id = k.step_id
                                                 AND x.part_id = k.part_id)
  )
  INSERT INTO qms_firstdeparture AS f (tenant_id, step_id, part_id, log_id, departed_at, action)
  SELECT tenant_id, from_step_id, part_id, id, transition_time, action FROM firsts
  ON CONFLICT (tenant_id, step_id, part_id) DO UPDATE
    SET log_id = EXCLUDED.log_id, departed_at = EXCLUDED.departed_at, action = EXCLUDED.action
$$;
"""

CREATE = RECOMPUTE + """
CREATE OR REPLACE FUNCTION qms_first_departures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO qms_firstdeparture AS f (tenant_id, step_id, part_id, log_id, departed_at, action)
  SELECT DISTINCT ON (n.tenant_id, n.from_step_id, n.part_id)
         n.tenant_id, n.from_step_id, n.part_id, n.id, n.transition_time, n.action
    FROM new_rows n WHERE n.from_step_id IS NOT NULL
   ORDER BY n.tenant_id, n.from_step_id, n.part_id, n.transition_time, n.id
  ON CONFLICT (tenant_id, step_id, part_id) DO UPDATE
    SET log_id = EXCLUDED.log_id, departed_at = EXCLUDED.departed_at, action = EXCLUDED.action
    WHERE (EXCLUDED.departed_at, EXCLUDED.log_id) < (f.departed_at, f.log_id);
  RETURN NULL;
END $$;

-- Only the rows whose (tenant, step, part, time, action) changed: an update of notes touches nothing.
-- EXCEPT, not a join of the transition tables (PL/pgSQL keeps the plan made for its first call).
CREATE OR REPLACE FUNCTION qms_first_departures_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM qms_first_departures_recompute(array_agg(c.tenant_id), array_agg(c.from_step_id), array_agg(c.part_id))
     FROM ((SELECT tenant_id, from_step_id, part_id, id, transition_time, action FROM old_rows
            EXCEPT SELECT tenant_id, from_step_id, part_id, id, transition_time, action FROM new_rows)
           UNION
           (SELECT tenant_id, from_step_id, part_id, id, transition_time, action FROM new_rows
            EXCEPT SELECT tenant_id, from_step_id, part_id, id, transition_time, action FROM old_rows)) c
    WHERE c.from_step_id IS NOT NULL
   HAVING count(*) > 0;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION qms_first_departures_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM qms_first_departures_recompute(array_agg(o.tenant_id), array_agg(o.from_step_id), array_agg(o.part_id))
     FROM old_rows o WHERE o.from_step_id IS NOT NULL HAVING count(*) > 0;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS qms_first_departures ON mes_lite_steptransitionlog;
CREATE TRIGGER qms_first_departures AFTER INSERT ON mes_lite_steptransitionlog
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qms_first_departures();
DROP TRIGGER IF EXISTS qms_first_departures_update ON mes_lite_steptransitionlog;
CREATE TRIGGER qms_first_departures_update AFTER UPDATE ON mes_lite_steptransitionlog
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION qms_first_departures_update();
DROP TRIGGER IF EXISTS qms_first_departures_delete ON mes_lite_steptransitionlog;
CREATE TRIGGER qms_first_departures_delete AFTER DELETE ON mes_lite_steptransitionlog
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qms_first_departures_delete();
"""

DROP = """
DROP TRIGGER IF EXISTS qms_first_departures ON mes_lite_steptransitionlog;
DROP TRIGGER IF EXISTS qms_first_departures_update ON mes_lite_steptransitionlog;
DROP TRIGGER IF EXISTS qms_first_departures_delete ON mes_lite_steptransitionlog;
DROP FUNCTION IF EXISTS qms_first_departures();
DROP FUNCTION IF EXISTS qms_first_departures_update();
DROP FUNCTION IF EXISTS qms_first_departures_delete();
DROP FUNCTION IF EXISTS qms_first_departures_recompute(bigint[], bigint[], bigint[]);
"""

# The log as it is when quality is installed or upgraded (run as the owner: every tenant's rows).
BACKFILL = """
INSERT INTO qms_firstdeparture (tenant_id, step_id, part_id, log_id, departed_at, action)
SELECT DISTINCT ON (tenant_id, from_step_id, part_id) tenant_id, from_step_id, part_id, id, transition_time, action
  FROM mes_lite_steptransitionlog WHERE from_step_id IS NOT NULL
 ORDER BY tenant_id, from_step_id, part_id, transition_time, id
"""

OLD_INDEX = ("CREATE INDEX qms_transition_first_departure ON mes_lite_steptransitionlog "
             "(tenant_id, from_step_id, part_id, transition_time, id) INCLUDE (action) "
             "WHERE from_step_id IS NOT NULL")


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0008_document_approval'),
        ('mes_lite', '0005_rework_and_return'),
        ('qms', '0006_first_departure_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='FirstDeparture',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('departed_at', models.DateTimeField()),
                ('action', models.CharField(max_length=20)),
                ('log', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='mes_lite.steptransitionlog')),
                ('part', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mes_lite.part')),
                ('step', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mes_lite.step')),
                ('tenant', models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.tenant')),
            ],
            options={
                'base_manager_name': 'unscoped',
                'indexes': [models.Index(fields=['tenant', 'departed_at', 'step'], include=('action',), name='qms_first_departure_period')],
                'constraints': [models.UniqueConstraint(fields=('tenant', 'step', 'part'), name='qms_first_departure_unique')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('unscoped', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='FirstPassCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('parts', models.IntegerField()),
                ('passed', models.IntegerField()),
                ('step', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mes_lite.step')),
                ('tenant', models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.tenant')),
            ],
            options={
                'base_manager_name': 'unscoped',
                'constraints': [models.UniqueConstraint(fields=('tenant', 'hour', 'step'), name='qms_first_pass_count_unique')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('unscoped', django.db.models.manager.Manager()),
            ],
        ),
        # The trigger first, then the backfill, in this migration's transaction: no log row written
        # meanwhile can be missed.
        migrations.RunSQL(COUNTS, reverse_sql=DROP_COUNTS),
        migrations.RunSQL(CREATE, reverse_sql=DROP),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL("DROP INDEX IF EXISTS qms_transition_first_departure", reverse_sql=OLD_INDEX),
    ]

"""Live charts: a NOTIFY on channel ``spc_measurements`` for every statement that records numeric
measurements (see ``traveler.spc.live``)."""

from django.db import migrations

# One notification per tenant and statement (a bulk advance of 500 parts is one insert, so one
# notification), sent inside the recording transaction: PostgreSQL delivers it on commit, and never
# when the transaction rolls back. Numeric readings are the rows with a value (pass / fail ones carry
# ``passed``), so the trigger needs no look-up of the definitions.
CREATE = """
CREATE OR REPLACE FUNCTION spc_measurements_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.tenant_id, array_agg(c.definition_id ORDER BY c.definition_id) AS definitions,
           array_agg(c.n ORDER BY c.definition_id) AS counts
      FROM (SELECT tenant_id, definition_id, count(*) AS n FROM new_rows
             WHERE value IS NOT NULL GROUP BY tenant_id, definition_id) c
     GROUP BY c.tenant_id
  LOOP
    PERFORM pg_notify('spc_measurements', json_build_object(
      'tenant', r.tenant_id, 'definitions', r.definitions, 'counts', r.counts)::text);
  END LOOP;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS spc_measurements_notify ON mes_lite_stepmeasurement;
CREATE TRIGGER spc_measurements_notify AFTER INSERT ON mes_lite_stepmeasurement
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spc_measurements_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS spc_measurements_notify ON mes_lite_stepmeasurement;
DROP FUNCTION IF EXISTS spc_measurements_notify();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("mes_lite", "0005_rework_and_return"),
        ("spc", "0002_signals_settings"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]

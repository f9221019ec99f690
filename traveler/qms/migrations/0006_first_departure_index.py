"""An index for quality's first-pass yield on the traveler's transition log.

First-pass yield counts, per step, the parts whose first departure from the step falls in the period
(``services/analytics.first_pass_yield``). Its query reads each (step, part)'s first row in this
index's order, index-only, instead of probing every row of the period for an earlier one: with one
million log rows it went from about 800 ms to under 200 ms (docs/benchmarks.md). The log is mes_lite's
table; the index is quality's, for quality's read, so it is created and dropped with quality's
migrations (the table itself is not changed).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("mes_lite", "0005_rework_and_return"),
        ("qms", "0005_capa_nonconformances"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX qms_transition_first_departure ON mes_lite_steptransitionlog "
                "(tenant_id, from_step_id, part_id, transition_time, id) INCLUDE (action) "
                "WHERE from_step_id IS NOT NULL",
            reverse_sql="DROP INDEX qms_transition_first_departure",
        ),
    ]

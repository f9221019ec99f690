from django.db import migrations, models

# Existing parts are numbered in their work order in the order they were created.
NUMBER = """
UPDATE mes_lite_part p SET sequence = n.seq
FROM (SELECT id, row_number() OVER (PARTITION BY work_order_id ORDER BY created_at, id) AS seq
      FROM mes_lite_part WHERE work_order_id IS NOT NULL) n
WHERE p.id = n.id
"""


class Migration(migrations.Migration):
    dependencies = [("mes_lite", "0005_rework_and_return")]

    operations = [
        migrations.AddField(model_name="part", name="sequence", field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.RunSQL(NUMBER, migrations.RunSQL.noop),
        migrations.AddConstraint(model_name="part", constraint=models.UniqueConstraint(
            fields=("work_order", "sequence"), name="mes_part_unique_sequence")),
    ]

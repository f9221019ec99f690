# A process's route version (v1, v2, ...) gets its own column, route_version, so that ``version``
# is the optimistic-lock counter every tenant record has (an edit of a draft sends back the
# version it read, like on every other record).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mes_lite', '0002_part_progress_indexes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='process',
            name='mes_process_unique_version',
        ),
        migrations.RenameField(
            model_name='process',
            old_name='version',
            new_name='route_version',
        ),
        migrations.AlterField(
            model_name='process',
            name='route_version',
            field=models.PositiveIntegerField(default=1, help_text='1, 2, ...: each new version of the route.'),
        ),
        migrations.AddField(
            model_name='process',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AlterModelOptions(
            name='process',
            options={'ordering': ['part_type', 'name', '-route_version'], 'verbose_name_plural': 'processes'},
        ),
        migrations.AddConstraint(
            model_name='process',
            constraint=models.UniqueConstraint(fields=('part_type', 'name', 'route_version'),
                                               name='mes_process_unique_version'),
        ),
    ]

"""A HealthFlip becomes a row of the notification app's one outbox (`notifications.MailRow`).

`send_error` is the outbox's `error` (the column keeps its name); the new delivery fields
get database defaults so bulk SQL inserts may leave them out. Every flip already processed
was sent (or decided) under the old rules, so it is marked finished and never sent again.
"""

from django.db import migrations, models
from django.db.models import F, Q


def finish_processed_flips(apps, schema_editor):
    HealthFlip = apps.get_model("collectors", "HealthFlip")
    done = HealthFlip.objects.filter(processed__isnull=False)
    done.update(sent_at=F("processed"), attempts=1)
    done.filter(delivery="failed").update(failed=True)


class Migration(migrations.Migration):
    dependencies = [
        ("collectors", "0010_retention_horizon_run_totals_and_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RenameField("healthflip", "send_error", "error"),
                migrations.AlterField(
                    model_name="healthflip",
                    name="error",
                    field=models.TextField(blank=True, db_column="send_error"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="healthflip",
            name="attempts",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="healthflip",
            name="claimed",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="healthflip",
            name="delivered_to",
            field=models.JSONField(blank=True, db_default=[], default=list),
        ),
        migrations.AddField(
            model_name="healthflip",
            name="failed",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="healthflip",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="healthflip",
            name="sent_at",
            field=models.DateTimeField(blank=True, help_text="When delivery finished.", null=True),
        ),
        migrations.AddIndex(
            model_name="healthflip",
            index=models.Index(
                condition=Q(processed__isnull=False, sent_at__isnull=True),
                fields=["next_attempt_at"],
                name="flip_to_send",
            ),
        ),
        # Last: PostgreSQL alters no table that has pending trigger events from an update.
        migrations.RunPython(finish_processed_flips, migrations.RunPython.noop),
    ]

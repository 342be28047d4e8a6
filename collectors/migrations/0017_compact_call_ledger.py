"""The call ledger keeps a 64-bit key per call instead of its texts (bench/ANALYSIS.md 2b).

Existing rows get their key from the same function new calls use (`call_key_of`), so a call
stored before the upgrade still counts once when a later file repeats it. The texts and the
per-interval facts go: intervals are now added to, not recomputed from the ledger, and the
interval rows already hold every stored call.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

BATCH = 5000


def key_existing_calls(apps: Any, schema_editor: Any) -> None:
    # The model's function, not a copy: the keys must be the ones the code computes.
    from collectors.models import call_key_of

    DropCall = apps.get_model("collectors", "DropCall")
    rows = DropCall.objects.using(schema_editor.connection.alias)
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", "queue_vendor_id", "call_id")[:BATCH])
        if not batch:
            break
        last = batch[-1][0]
        DropCall.objects.bulk_update(
            [DropCall(pk=pk, call_key=call_key_of(queue, call)) for pk, queue, call in batch],
            ["call_key"],
            batch_size=1000,
        )
    # Two stored calls of one connection with one key (a hash collision, about n^2 / 2^65):
    # the later row goes, as a call with that key arriving now would not be stored.
    seen: set[tuple[int, int]] = set()
    doomed = []
    for pk, conn, key in rows.order_by("pk").values_list("pk", "connection_id", "call_key").iterator(BATCH):
        if (conn, key) in seen:
            doomed.append(pk)
        seen.add((conn, key))
    if doomed:
        DropCall.objects.using(schema_editor.connection.alias).filter(pk__in=doomed).delete()


class Migration(migrations.Migration):
    dependencies = [("collectors", "0016_schedule_health_due_times")]

    operations = [
        migrations.AddField(
            model_name="dropcall",
            name="call_key",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(key_existing_calls, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(model_name="dropcall", name="drop_call_once_per_queue"),
        migrations.RemoveIndex(model_name="dropcall", name="drop_call_interval"),
        migrations.RemoveField(model_name="dropcall", name="queue_vendor_id"),
        migrations.RemoveField(model_name="dropcall", name="call_id"),
        migrations.RemoveField(model_name="dropcall", name="handle_seconds"),
        migrations.RemoveField(model_name="dropcall", name="abandoned"),
        migrations.AlterField(
            model_name="dropcall",
            name="call_key",
            field=models.BigIntegerField(help_text="call_key_of(queue vendor id, call id)"),
        ),
        migrations.AddConstraint(
            model_name="dropcall",
            constraint=models.UniqueConstraint(fields=("connection", "call_key"), name="drop_call_once"),
        ),
    ]

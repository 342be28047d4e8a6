"""The poll's precompiled statements read and store exactly what the ORM would (collectors.rows).

Run on PostgreSQL and on SQLite (`make test` runs both): the conversions differ by database.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.db import connection as db
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict

from collectors import rows
from collectors.models import CollectionRun, CollectionSchedule, Cursor
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db


def test_the_models_stored_raw_have_no_save_signal_receivers():
    # `rows` sends no model signals: a receiver added to these models would be skipped.
    for model in (CollectionRun, CollectionSchedule):
        assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)


def stored(model, pk):
    """Every column of a row as the ORM reads it."""
    return model_to_dict(model.objects.get(pk=pk), fields=[f.name for f in model._meta.concrete_fields])


def test_a_schedule_loaded_from_a_raw_row_equals_the_one_the_orm_reads(eight):
    schedule = CollectionSchedule.objects.get(connection=eight, stream="agent_states")
    CollectionSchedule.objects.filter(pk=schedule.pk).update(
        lease_until=T0,
        last_success_at=T0 - td(seconds=10),
        covered=[["2026-03-02T11:00:00Z", 4]],
        enabled=True,
    )
    columns = ", ".join(db.ops.quote_name(c) for c in rows.columns(CollectionSchedule))
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM collectors_collectionschedule WHERE id = %s", [schedule.pk])
        loaded = rows.load(CollectionSchedule, cursor.fetchone())
    expected = stored(CollectionSchedule, schedule.pk)
    assert model_to_dict(loaded, fields=list(expected)) == expected
    assert loaded.lease_until == T0 and loaded.lease_until.utcoffset() == td(0)
    assert loaded.covered == [["2026-03-02T11:00:00Z", 4]]
    assert loaded.enabled is True
    # One column alone converts the same way.
    with db.cursor() as cursor:
        cursor.execute("SELECT lease_until FROM collectors_collectionschedule WHERE id = %s", [schedule.pk])
        assert rows.convert(CollectionSchedule, "lease_until", cursor.fetchone()[0]) == T0
    # A loaded instance is a stored one: saving it updates its row, never adds another.
    assert not loaded._state.adding
    loaded.save(update_fields=["status_reason"])
    assert CollectionSchedule.objects.filter(connection=eight, stream="agent_states").count() == 1


def test_a_run_inserted_raw_is_stored_as_save_would_store_it(eight):
    def run():
        return CollectionRun(
            connection=eight,
            stream="agent_states",
            started_at=T0,
            finished_at=T0 + td(seconds=1.25),
            window_start=T0,
            window_end=T0 + td(seconds=30),
            status=CollectionRun.OK,
            rows_created=3,
            notes="2 agent(s) first seen in this snapshot",
            task_id="task-1",
            lease_id="lease-1",
        )

    saved, inserted = run(), run()
    saved.save()
    rows.insert(inserted)
    assert inserted.pk is not None and inserted.pk != saved.pk
    as_saved, as_inserted = stored(CollectionRun, saved.pk), stored(CollectionRun, inserted.pk)
    as_saved.pop("id"), as_inserted.pop("id")
    assert as_inserted == as_saved
    # Stored, so a later save (a retry's note) updates the same row.
    inserted.notes = "retry 1 of 3"
    inserted.save(update_fields=["notes"])
    assert CollectionRun.objects.filter(connection=eight).count() == 2
    assert CollectionRun.objects.get(pk=inserted.pk).notes == "retry 1 of 3"


def test_a_run_inserted_with_an_update_is_stored_only_when_the_update_changes_a_row(eight):
    def run():
        return CollectionRun(connection=eight, stream="agent_states", started_at=T0, status=CollectionRun.OK)

    Cursor.objects.create(connection=eight, stream="agent_states", position=T0)
    move = (
        "UPDATE collectors_cursor SET position = %s WHERE connection_id = %s AND stream = %s",
        [db.ops.adapt_datetimefield_value(T0 + td(seconds=30)), eight.pk, "agent_states"],
    )
    nowhere = (move[0], [move[1][0], eight.pk, "volume"])
    missed = run()
    assert rows.insert_if(missed, *nowhere) is False
    assert missed.pk is None and not CollectionRun.objects.exists()
    stored_run = run()
    assert rows.insert_if(stored_run, *move) is True
    assert CollectionRun.objects.get().pk == stored_run.pk
    assert Cursor.objects.get(connection=eight, stream="agent_states").position == T0 + td(seconds=30)

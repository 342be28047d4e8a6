"""Beat holds a handful of global ticks, each naming a task that exists and runs."""

from __future__ import annotations

import pytest

from wfm_site.celery import app


def test_beat_has_the_seven_global_ticks_and_no_entry_per_connection():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert tasks == {
        "collectors.tasks.dispatch_due",
        "collectors.tasks.scan_drops",
        "collectors.tasks.evaluate_health",
        "tokens.tasks.token_reminders",
        "wfm_site.tasks.send_outbox",
        "collectors.tasks.prune",
        "notifications.tasks.send_webhooks",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(entry["task"] for entry in app.conf.beat_schedule.values()))
def test_each_tick_is_a_registered_task_that_runs_on_an_empty_site(name):
    app.loader.import_default_modules()
    task = app.tasks[name]
    task.apply().get()  # runs eagerly, in this process: no error on a site with nothing to do

"""End to end through a real broker: dispatch → Celery worker → collect → neutral rows.

Uses Kombu's filesystem transport in a temporary folder (a real broker that no other
worker reads), so it runs everywhere; the Redis path is the same code with another URL.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from kombu import Queue

import collectors.tasks  # noqa: F401  (registers the shared tasks on every app)
from collectors.dispatch import dispatch_due
from collectors.models import CollectionRun, CollectionSchedule, IntervalVolume
from collectors.streams import queues
from tests.brokers import filesystem_app


@pytest.fixture
def worker_app(tmp_path):
    return filesystem_app(
        tmp_path,
        "engine-e2e",
        task_queues=[Queue(name) for name in queues()],
        task_acks_late=True,
    )


@pytest.mark.django_db(transaction=True)
def test_dispatched_runs_reach_a_worker_on_their_queues_and_write_rows(eight, fake, worker_app):
    CollectionSchedule.objects.update(next_run_at=timezone.now() - td(seconds=1))
    results = []

    def enqueue(claim):
        task = worker_app.tasks["collectors.tasks.collect"]
        results.append(
            task.apply_async(
                args=(claim.schedule_id, claim.window_start.isoformat(), claim.window_end.isoformat()),
                kwargs={"lease_id": claim.lease_id},
                ignore_result=False,
                **claim.options(),
            )
        )

    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert dispatch_due(enqueue=enqueue) == 3
        answers = sorted(r.get(timeout=30) for r in results)
    assert answers == ["ok", "ok", "ok"]
    assert CollectionRun.objects.filter(status="ok").count() == 3
    assert all(run.task_id.startswith("collect:") for run in CollectionRun.objects.all())
    assert IntervalVolume.objects.exists()
    assert not CollectionSchedule.objects.filter(connection=eight, lease_id__gt="").exists()

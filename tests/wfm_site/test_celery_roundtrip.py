"""A real Celery worker takes a task from the real broker and answers.

On CI the broker is Redis (CELERY_BROKER_URL); without one the embedded default, Kombu's
filesystem transport, is used in a temporary folder: a real broker either way.
"""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

import wfm_site.tasks  # noqa: F401  (defines the shared task the worker must know)
from tests.brokers import filesystem_app


@pytest.fixture
def broker_app(tmp_path):
    url = settings.CELERY_BROKER_URL
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"  # never steal a running worker's tasks
    if url.startswith("redis"):
        app = Celery("roundtrip", set_as_current=False)
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.conf.update(broker_url=url, result_backend=url)
    else:
        app = filesystem_app(tmp_path, "roundtrip")
    app.conf.update(task_default_queue=queue, task_ignore_result=False, task_queues=None)
    yield app, url.split("://", 1)[0]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_the_broker(broker_app):
    app, transport = broker_app
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = app.tasks["wfm_site.tasks.send_outbox"].apply_async(ignore_result=False)
        answer = result.get(timeout=20)
    assert set(answer) == {"flips", "alerts"}
    assert all(isinstance(n, int) for n in answer.values())
    assert result.successful()
    assert transport in ("redis", "filesystem")

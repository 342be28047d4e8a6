"""A worker keeps its database connection from one task to the next, as CONN_MAX_AGE says.

Celery's Django fixup would close every connection around every task (a new PostgreSQL
server process for each 10-second poll); settings.CELERY_DB_REUSE_MAX stops that, and
wfm_site.celery closes only the connections that are too old or broken, as Django does
around a request.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from wfm_site.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


class WorkerTask:
    """The sender of a task's signals in a worker: a task whose request is not eager."""

    request = SimpleNamespace(is_eager=False)


WORKER_TASK = WorkerTask()


def run_task_boundaries() -> None:
    """What a worker does around a task: Celery's fixup, then the signals it connects."""
    fixup = DjangoWorkerFixup(app)
    fixup.on_task_prerun(WORKER_TASK)
    signals.task_prerun.send(sender=WORKER_TASK)
    fixup.on_task_postrun(WORKER_TASK)
    signals.task_postrun.send(sender=WORKER_TASK)


@pytest.fixture
def max_age():
    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()

    def set_to(seconds: int) -> None:
        connection.settings_dict["CONN_MAX_AGE"] = seconds
        connection.ensure_connection()

    yield set_to
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = saved


def test_a_task_leaves_the_workers_connection_open_for_the_next(max_age):
    max_age(60)
    before = connection.connection
    for _ in range(3):
        run_task_boundaries()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
    assert connection.connection is before


def test_with_a_max_age_of_zero_each_task_closes_it_for_pgbouncer(max_age):
    max_age(0)
    run_task_boundaries()
    assert connection.connection is None


def test_a_broken_connection_is_replaced_at_the_next_task(max_age):
    max_age(60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    connection.connection.close()  # the server or the network dropped it
    run_task_boundaries()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid

"""Publishing claims to a real Redis broker: one producer and one pipeline per batch, the
claim's options on each message, and unpublished claims released when Redis fails.

Uses the Redis database CELERY_BROKER_URL names (each run on a shared server has its own, see
the Makefile) and deletes only the collection queues it reads; no worker runs meanwhile.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from datetime import timedelta as td
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

import collectors.tasks  # registers the shared tasks on every app
from collectors.dispatch import dispatch_due, window_for
from collectors.models import CollectionSchedule
from collectors.streams import get_stream, queues
from tests.collectors.enginekit import T0, schedule_of
from tests.conftest import make_connection

pytestmark = [pytest.mark.redis, pytest.mark.django_db]
NOW = T0 + td(seconds=3)
QUEUES = queues()
QUEUE_AGENT_STATES, QUEUE_CONFIG = get_stream("agent_states").queue, get_stream("config").queue


def redis_url() -> str:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("needs Redis (CELERY_BROKER_URL is not redis://)")
    return broker


def make_app(url: str, **conf: object) -> Celery:
    app = Celery("dispatch-redis", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # Publishing connects to broker_write_url; broker_url would lose to the environment's
    # CELERY_BROKER_URL, which Celery reads first.
    app.conf.update(broker_write_url=url, **conf)
    assert app.connection_for_write().as_uri().endswith(url.rsplit(":", 1)[1])
    return app


@pytest.fixture
def broker():
    """A Celery app made current on the configured Redis database, whose collection queues
    are emptied before and after (only those keys: the database is this run's own)."""
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    client.delete(*QUEUES)
    app = make_app(url)
    previous = collectors.tasks.collect.app
    app.set_current()
    try:
        yield app, client
    finally:
        previous.set_current()
        app.close()
        client.delete(*QUEUES)


def messages(client, queue: str) -> list[dict]:
    return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]


def due_everything(now=NOW):
    CollectionSchedule.objects.update(next_run_at=now - td(seconds=1), lease_until=None, lease_id="")


def test_each_claim_reaches_its_queue_with_its_id_lease_and_limits(eight, broker):
    _app, client = broker
    due_everything()
    assert dispatch_due(NOW) == 3
    assert [len(messages(client, q)) for q in QUEUES] == [1, 1, 1]
    [states] = messages(client, QUEUE_AGENT_STATES)
    schedule = schedule_of(eight, "agent_states")
    headers = states["headers"]
    # The window is the poll's slot: the one whose phase point came last before NOW.
    start, end = window_for("agent_states", 30, NOW, schedule.pk)
    assert end - start == td(seconds=30) and start <= NOW < end + td(seconds=30)
    assert headers["id"] == f"collect:{schedule.pk}:{start:%Y-%m-%dT%H:%M:%SZ}"
    assert headers["task"] == "collectors.tasks.collect"
    assert headers["expires"]  # an agent-state poll not started within its interval is dropped
    hard, soft = headers["timelimit"]
    assert hard > soft > 0
    args, kwargs, _embed = json.loads(base64.b64decode(states["body"]))
    assert args == [schedule.pk, start.isoformat(), end.isoformat()]
    assert kwargs == {"lease_id": schedule.lease_id}
    [config] = messages(client, QUEUE_CONFIG)
    # A configuration run expires too, later: a message lost or stuck frees its stream in minutes.
    assert config["headers"]["expires"] > headers["expires"]


def test_a_batch_is_published_through_one_producer(tenant_a, broker):
    app, client = broker
    for i in range(5):
        make_connection(tenant_a, "8x8", f"c{i}")
    due_everything()  # 5 connections, 3 dispatched streams each
    with mock.patch.object(app.producer_pool, "acquire", wraps=app.producer_pool.acquire) as acquire:
        assert dispatch_due(NOW, batch_size=6) == 15
    assert sum(len(messages(client, q)) for q in QUEUES) == 15
    # 6 + 6 + 3: one producer per batch, not one per message.
    assert acquire.call_count == 3


def test_an_unreachable_broker_releases_every_claim_for_the_next_tick(eight, broker):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = urlunsplit(urlsplit(redis_url())._replace(netloc=f"127.0.0.1:{port}"))  # same db, dead port
    down = make_app(dead, task_publish_retry=False)
    down.set_current()
    try:
        due_everything()
        assert dispatch_due(NOW) == 0
    finally:
        down.close()
    dispatched = CollectionSchedule.objects.exclude(stream="file_drop")
    assert dispatched.count() == 3
    assert set(dispatched.values_list("lease_id", "lease_until", "next_run_at")) == {("", None, NOW)}
    _app, client = broker
    broker[0].set_current()
    assert dispatch_due(NOW + td(seconds=5)) == 3
    assert [len(messages(client, q)) for q in QUEUES] == [1, 1, 1]


def test_a_batch_is_written_with_one_pipeline_round_trip(tenant_a, broker):
    _app, client = broker
    for i in range(5):
        make_connection(tenant_a, "8x8", f"c{i}")
    due_everything()
    with mock.patch.object(Pipeline, "execute", autospec=True, side_effect=Pipeline.execute) as execute:
        assert dispatch_due(NOW, batch_size=10) == 15
    assert execute.call_count == 2  # 10 + 5
    assert sum(len(messages(client, q)) for q in QUEUES) == 15


def test_a_failed_pipeline_write_releases_its_whole_batch(tenant_a, broker):
    _app, client = broker
    for i in range(4):
        make_connection(tenant_a, "8x8", f"c{i}")
    due_everything()  # 12 due rows
    real = Pipeline.execute
    calls = []

    def second_fails(pipe, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            pipe.reset()
            raise RedisConnectionError("connection lost mid-write")
        return real(pipe, *args, **kwargs)

    with mock.patch.object(Pipeline, "execute", autospec=True, side_effect=second_fails):
        # The first batch went out; the second's delivery is unknown, so all of it is released.
        assert dispatch_due(NOW, batch_size=5) == 5
    leased = CollectionSchedule.objects.exclude(stream="file_drop").exclude(lease_id="")
    assert leased.count() == 5
    assert sum(len(messages(client, q)) for q in QUEUES) == 5
    assert dispatch_due(NOW + td(seconds=5), batch_size=5) == 7
    assert sum(len(messages(client, q)) for q in QUEUES) == 12

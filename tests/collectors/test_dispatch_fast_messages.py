"""The fast publish path writes the message `apply_async` would, and a stock worker runs it.

Uses the Redis database CELERY_BROKER_URL names (see test_dispatch_redis) and its fixture.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime
from datetime import timedelta as td

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from kombu import Queue

from collectors.dispatch import (
    COLLECT_TASK,
    Claim,
    collect_sender,
    dispatch_due,
    publish,
    task_arguments,
    window_for,
)
from collectors.fast_publish import FastPublisher, usable
from collectors.models import CollectionRun, CollectionSchedule
from collectors.streams import queues
from tests.collectors.test_dispatch_redis import NOW, broker, due_everything, messages  # noqa: F401  (fixture)

pytestmark = [pytest.mark.redis]
START = datetime.fromisoformat("2026-03-29T00:59:30+00:00")  # the UTC night Europe springs forward


def decoded(raw: dict) -> dict:
    raw = dict(raw)
    raw["body"] = json.loads(base64.b64decode(raw["body"]))
    return raw


@pytest.mark.parametrize(("stream", "interval"), [("agent_states", 30), ("config", 900), ("volume", 900)])
def test_a_fast_message_is_field_for_field_the_one_apply_async_sends(broker, stream, interval):  # noqa: F811
    app, client = broker
    claim = Claim(41, stream, interval, START, START + td(seconds=interval), "lease-token")
    with app.producer_or_acquire() as producer:
        assert usable(app, producer)
        publish(claim, producer, collect_sender(app))
        FastPublisher(app, producer, COLLECT_TASK).publish([(claim, *task_arguments(claim))])
    slow, fast = (decoded(m) for m in reversed(messages(client, claim.queue)))
    # Per message by nature: kombu's delivery tag, and the expiry counted from the send.
    slow_expires = datetime.fromisoformat(slow["headers"].pop("expires"))
    fast_expires = datetime.fromisoformat(fast["headers"].pop("expires"))
    assert td(0) <= fast_expires - slow_expires < td(seconds=5)
    assert slow_expires - timezone.now() > td(seconds=claim.options()["expires"] - 5)
    assert slow["properties"].pop("delivery_tag") != fast["properties"].pop("delivery_tag")
    assert fast == slow
    # Same keys in the same order: the envelope differs only in the values above.
    assert list(fast["headers"]) == list(slow["headers"]) and list(fast["properties"]) == list(
        slow["properties"]
    )
    assert (
        fast["headers"]["id"] == claim.task_id
        and fast["properties"]["delivery_info"]["routing_key"] == claim.queue
    )
    assert fast["body"][0] == [41, START.isoformat(), (START + td(seconds=interval)).isoformat()]


def test_sent_from_a_running_task_both_paths_link_the_message_to_it(broker):  # noqa: F811
    from celery._state import _task_stack

    app, client = broker
    claim = Claim(41, "agent_states", 30, START, START + td(seconds=30), "lease-token")
    # As on a worker running beat's dispatch_due: the task is on the stack with its request.
    parent = app.tasks["collectors.tasks.dispatch_due"]
    parent.push_request(id="dispatch-task", root_id="beat-root", called_directly=False)
    _task_stack.push(parent)
    try:
        with app.producer_or_acquire() as producer:
            publish(claim, producer, collect_sender(app))
            FastPublisher(app, producer, COLLECT_TASK).publish([(claim, *task_arguments(claim))])
    finally:
        _task_stack.pop()
        parent.pop_request()
    slow, fast = (decoded(m) for m in reversed(messages(client, claim.queue)))
    assert (slow["headers"]["root_id"], slow["headers"]["parent_id"]) == ("beat-root", "dispatch-task")
    assert (fast["headers"]["root_id"], fast["headers"]["parent_id"]) == ("beat-root", "dispatch-task")


def test_dispatch_on_redis_sends_each_claim_under_its_deterministic_task_id(eight, broker):  # noqa: F811
    _app, client = broker
    due_everything()
    assert dispatch_due(NOW) == 3
    sent = {m["headers"]["id"]: m for q in queues() for m in messages(client, q)}
    schedules = CollectionSchedule.objects.exclude(stream="file_drop")
    expected = {
        Claim(
            s.pk, s.stream, s.interval_seconds, *window_for(s.stream, s.interval_seconds, NOW, s.pk), ""
        ).task_id
        for s in schedules
    }
    assert set(sent) == expected
    # The same window dispatched again (its lease given back) carries the same id.
    due_everything()
    client.delete(*queues())
    assert dispatch_due(NOW) == 3
    assert {m["headers"]["id"] for q in queues() for m in messages(client, q)} == expected


def test_a_publish_signal_receiver_sends_through_apply_async_so_it_still_fires(eight, broker):  # noqa: F811
    app, _client = broker
    seen = []

    def receiver(sender=None, headers=None, **kwargs):
        seen.append(headers["id"])

    signals.before_task_publish.connect(receiver, weak=False)
    try:
        with app.producer_or_acquire() as producer:
            assert not usable(app, producer)
        due_everything()
        assert dispatch_due(NOW) == 3
    finally:
        signals.before_task_publish.disconnect(receiver)
    assert len(seen) == 3


@pytest.mark.django_db(transaction=True)
def test_a_stock_worker_runs_a_fast_message_with_its_args(eight, fake, broker):  # noqa: F811
    app, _client = broker
    app.conf.update(task_queues=[Queue(name) for name in queues()], result_backend="cache+memory://")
    CollectionSchedule.objects.update(next_run_at=timezone.now() - td(seconds=1))
    done = threading.Event()
    finished: list[tuple[str, tuple, dict]] = []

    def postrun(task_id=None, args=None, kwargs=None, **_):
        finished.append((task_id, tuple(args), kwargs))
        if len(finished) == 3:
            done.set()

    signals.task_postrun.connect(postrun, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            assert dispatch_due() == 3
            assert done.wait(timeout=60)
    finally:
        signals.task_postrun.disconnect(postrun)
    runs = CollectionRun.objects.all()
    assert sorted(run.status for run in runs) == ["ok", "ok", "ok"]
    assert {task_id for task_id, _args, _kwargs in finished} == {run.task_id for run in runs}
    dispatched = CollectionSchedule.objects.exclude(stream="file_drop")
    for task_id, (pk, start, end), kwargs in finished:
        schedule = dispatched.get(pk=pk)
        window = datetime.fromisoformat(start), datetime.fromisoformat(end)
        assert window[1] - window[0] == td(seconds=schedule.interval_seconds)
        assert task_id == f"collect:{pk}:{window[0]:%Y-%m-%dT%H:%M:%SZ}"
        assert set(kwargs) == {"lease_id"} and kwargs["lease_id"]
    assert len({args[0] for _task_id, args, _kwargs in finished}) == dispatched.count() == 3
    assert not CollectionSchedule.objects.filter(connection=eight, lease_id__gt="").exists()

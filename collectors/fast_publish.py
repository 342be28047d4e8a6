"""Publish a batch of collect tasks to Redis without building each message through Celery.

`apply_async` re-derives everything for every message: routing, option merging, the
protocol-2 headers, kombu's serialisation, the declare check. For a dispatch tick of
thousands of collect tasks that differ only in id, args and expiry that is three quarters
of the tick. Here Celery builds one template message per task shape (queue, time limits,
expiry seconds) with its own `amqp.as_task_v2`, the producer routes it and declares its
queue once, and each claim only swaps in its id, args, reprs and absolute expiry before
the envelope (kombu's Redis transport format: base64 body, properties, delivery info) is
written with one pipeline. Tests hold the result field for field equal to `apply_async`'s
and run it on a stock worker.

Only the plain case is taken: a Redis broker kombu would pipeline to, JSON, no publish
signals connected, not eager.
Anything else goes through `apply_async` (`usable`).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta as td
from typing import TYPE_CHECKING, Any

from celery import signals
from kombu.utils.json import dumps

if TYPE_CHECKING:
    from celery import Celery

    from collectors.dispatch import Claim


@dataclass(frozen=True)
class _Shape:
    headers: dict[str, Any]
    properties: dict[str, Any]
    key: str
    expire_keys: tuple[str, ...]
    queue_ttl: int
    expires: str


# Protocol 2's third body part: a collect task has no callbacks, chain or chord.
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def usable(app: Celery, producer: Any) -> bool:
    """True when a fast message is exactly what `apply_async` would send."""
    return (
        producer.connection.transport.driver_type == "redis"
        # Where kombu itself would not pipeline (a connection that retries writes on its
        # own could repeat a whole batch), neither do we.
        and producer.supports_batch_publish
        and not app.conf.task_always_eager
        and not signals.before_task_publish.receivers
        and not signals.after_task_publish.receivers
        and app.conf.task_serializer == "json"
        and not app.conf.task_compression
        # send_task would copy the dispatching task's priority into each message.
        and not app.conf.task_inherit_parent_priority
    )


class FastPublisher:
    """Builds and pipelines collect messages for one producer; one per batch (its shapes
    hold the batch's expiry times)."""

    def __init__(self, app: Celery, producer: Any, task_name: str) -> None:
        self.app = app
        self.producer = producer
        self.channel = producer.channel
        self.task_name = task_name
        self.shapes: dict[tuple[Any, ...], _Shape] = {}
        # Sent from a running task (beat's dispatch_due on a worker), send_task links each
        # message to it: root_id the task's root, parent_id the task itself.
        parent = app.current_worker_task
        self.parent_id: str | None = None
        self.root_id: str | None = None
        if parent is not None:
            self.parent_id = parent.request.id
            self.root_id = parent.request.root_id or parent.request.id

    def _shape(self, claim: Claim) -> _Shape:
        # A claim's publishing options follow from its stream and interval alone (settings
        # and stream declarations), so they are read once per shape, not per message.
        key = (claim.stream, claim.interval_seconds)
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = self._build_shape(claim.options())
        return shape

    def _build_shape(self, options: dict[str, Any]) -> _Shape:
        amqp = self.app.amqp
        task = self.app.tasks.get(self.task_name)
        queue = amqp.router.route({"queue": options["queue"]}, self.task_name, (), {}, None)["queue"]
        if queue.exchange.type != "direct":
            raise ValueError(f"fast publish: queue {queue.name!r} is not on a direct exchange")
        message = amqp.as_task_v2(
            "template",
            self.task_name,
            (),
            {},
            soft_time_limit=options["soft_time_limit"],
            time_limit=options["time_limit"],
            reply_to=self.app.thread_oid,
            # As `dispatch.collect_sender` sends: the registered task's apply_async passes
            # its ignore_result; send_task by name passes none (the worker reads the task's).
            ignore_result=task.ignore_result if task is not None else None,  # type: ignore[arg-type]  # None: send_task's own default
        )
        # Declared once, as the first apply_async to this queue would.
        self.producer.maybe_declare(queue)
        # Celery sends to a direct exchange's queue through the anonymous exchange
        # (`send_task_message`), which kombu's Redis channel delivers straight to the list.
        priority = self.channel.default_priority
        return _Shape(
            headers=dict(message.headers),
            # In the order apply_async's message has them; the per-claim ones are filled in.
            properties={
                "correlation_id": None,
                "reply_to": message.properties["reply_to"],
                "argsrepr": None,
                "kwargsrepr": None,
                "delivery_mode": queue.exchange.delivery_mode or 2,
                "expiration": str(int(options["expires"] * 1000)),
                "delivery_info": {"exchange": "", "routing_key": queue.name},
                "priority": priority,
                "body_encoding": "base64",
                "delivery_tag": None,
            },
            key=self.channel._q_for_pri(queue.name, priority),
            expire_keys=tuple(self.channel._q_for_pri(queue.name, p) for p in self.channel.priority_steps)
            if queue.name in self.channel._expires
            else (),
            queue_ttl=self.channel._expires.get(queue.name, 0),
            # Counted from the batch's start: a batch goes out in one round trip.
            expires=(self.app.now() + td(seconds=options["expires"])).isoformat(),
        )

    def envelope(self, claim: Claim, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[_Shape, str]:
        """The shape and the serialised Redis envelope of one claim's message."""
        shape = self._shape(claim)
        task_id = claim.task_id
        argsrepr, kwargsrepr = repr(args), repr(kwargs)
        headers = dict(shape.headers)
        headers["id"] = task_id
        headers["root_id"] = self.root_id or task_id
        headers["parent_id"] = self.parent_id
        headers["argsrepr"] = argsrepr
        headers["kwargsrepr"] = kwargsrepr
        headers["expires"] = shape.expires
        properties = dict(shape.properties)
        properties["correlation_id"] = task_id
        properties["argsrepr"] = argsrepr
        properties["kwargsrepr"] = kwargsrepr
        properties["delivery_tag"] = str(uuid.uuid4())
        body = dumps((args, kwargs, _EMBED))
        message = {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": properties,
        }
        return shape, dumps(message)

    def publish(self, items: list[tuple[Claim, tuple[Any, ...], dict[str, Any]]]) -> None:
        """Write every message with one pipeline (one round trip, one MULTI/EXEC)."""
        with self.channel.conn_or_acquire() as client, client.pipeline() as pipe:
            for claim, args, kwargs in items:
                shape, data = self.envelope(claim, args, kwargs)
                pipe.lpush(shape.key, data)
                # A queue declared with x-expires: kombu renews its TTL on every publish.
                for key in shape.expire_keys:
                    pipe.pexpire(key, shape.queue_ttl)
            pipe.execute()

"""Heartbeats of the dispatcher and the workers, read by /healthz.

Every task that finishes in a worker records a `worker` beat, and `dispatch_due`
finishing records a `dispatcher` beat (Celery's `task_postrun` signal, connected when
this module is imported from `CollectorsConfig.ready`). Writes are throttled per process
so a busy worker costs one small upsert every few seconds, not one per task.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import timedelta as td
from typing import Any

from celery.signals import task_postrun
from django.utils import timezone

log = logging.getLogger(__name__)

DISPATCHER = "dispatcher"
WORKER = "worker"
DISPATCH_TASK = "collectors.tasks.dispatch_due"
_MIN_GAP_SECONDS = 5.0
_last_written: dict[str, float] = {}


def beat(name: str, now: datetime | None = None, force: bool = False) -> None:
    """Record that `name` is alive. Never raises: a heartbeat must not fail a task."""
    from collectors.models import Heartbeat

    mono = time.monotonic()
    if not force and mono - _last_written.get(name, -1e9) < _MIN_GAP_SECONDS:
        return
    try:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now()})
        _last_written[name] = mono
    except Exception:  # the database being down is reported by /healthz itself
        log.warning("could not record the %s heartbeat", name, exc_info=True)


def ages(now: datetime | None = None) -> dict[str, td | None]:
    """Age of each heartbeat (None when it was never recorded)."""
    from collectors.models import Heartbeat

    now = now or timezone.now()
    seen = dict(Heartbeat.objects.values_list("name", "at"))
    return {name: (now - seen[name]) if name in seen else None for name in (DISPATCHER, WORKER)}


@task_postrun.connect
def _on_task_postrun(sender: Any = None, **kwargs: Any) -> None:
    beat(WORKER)
    if getattr(sender, "name", "") == DISPATCH_TASK:
        beat(DISPATCHER)

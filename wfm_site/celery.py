"""The Celery app, configured from Django settings (CELERY_* names).

Beat holds a handful of global ticks, never one entry per connection: which connection is
due lives in `CollectionSchedule` rows that `dispatch_due` claims. The queues of the
collection runs are the streams' (each declaration in `collectors.streams` names its own),
so a slow history run never delays real-time polling.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery, signals
from kombu import Queue

from collectors.streams import queues as stream_queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wfm_site.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Every other task (beat's ticks, mail) runs on the default queue, but the health pass: on its
# own queue (and worker), a long pass never delays the dispatcher's 1-second tick.
QUEUE_DEFAULT = "default"
QUEUE_HEALTH = "health"

app.conf.update(
    task_queues=[Queue(QUEUE_DEFAULT), Queue(QUEUE_HEALTH), *(Queue(name) for name in stream_queues())],
    task_default_queue=QUEUE_DEFAULT,
    task_routes={"collectors.tasks.evaluate_health": {"queue": QUEUE_HEALTH}},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    timezone="UTC",
    enable_utc=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        # Every second: a poll goes out within a second of its phase point, in a burst of a
        # tenth of the connections rather than half (every 5 s, the last of 500 polls of a
        # 1,000-connection host waited 5 s in the queue of a 10-s poll, bench/). A tick still
        # queued when the next is due is dropped: the next claims the same rows.
        "dispatch-due": {
            "task": "collectors.tasks.dispatch_due",
            "schedule": 1.0,
            "options": {"expires": 1.0},
        },
        "scan-drops": {"task": "collectors.tasks.scan_drops", "schedule": 60.0},
        # A pass still queued when the next is due is dropped: the next judges the same rows.
        "evaluate-health": {
            "task": "collectors.tasks.evaluate_health",
            "schedule": 60.0,
            "options": {"expires": 55.0},
        },
        "token-reminders": {"task": "tokens.tasks.token_reminders", "schedule": 3600.0},
        "send-outbox": {"task": "wfm_site.tasks.send_outbox", "schedule": 30.0},
        "prune": {"task": "collectors.tasks.prune", "schedule": 3600.0},
        "send-webhooks": {"task": "notifications.tasks.send_webhooks", "schedule": 15.0},
    },
)
app.autodiscover_tasks(["collectors", "tokens", "notifications", "wfm_site"])


def ensure_broker_folders() -> None:
    """Kombu's filesystem transport needs its folders before the first publish."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender: Celery, **kwargs: object) -> None:
    ensure_broker_folders()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender: object = None, **kwargs: object) -> None:
    """Around each task, what Django does around each request: close the database connections
    past CONN_MAX_AGE or left broken (settings.CELERY_DB_REUSE_MAX keeps Celery from closing
    them all). An eager task runs inside its caller's transaction, which is not ours to end."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_init.connect
def _check_settings_at_worker_start(sender: object = None, **kwargs: object) -> None:
    from wfm_site.checks import refuse_to_start_on_errors

    refuse_to_start_on_errors("the worker")


@signals.beat_init.connect
def _check_settings_at_beat_start(sender: object = None, **kwargs: object) -> None:
    from wfm_site.checks import refuse_to_start_on_errors

    refuse_to_start_on_errors("beat")

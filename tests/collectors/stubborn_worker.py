"""A Celery app for `celery -A tests.collectors.stubborn_worker worker`: its runs ignore their
soft time limit, as a vendor library that swallows every exception would, so only the hard
limit can end them (tests/collectors/test_time_limits.py and `make prod-check`).
"""

from __future__ import annotations

import time

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from wfm_site.celery import app

__all__ = ("app",)


def stubborn_collect_stream(*args: object, **kwargs: object) -> None:
    while True:
        try:
            time.sleep(3600)
        except SoftTimeLimitExceeded:
            continue


@signals.worker_process_init.connect
def _ignore_soft_limits(**kwargs: object) -> None:
    import collectors.runs

    collectors.runs.collect_stream = stubborn_collect_stream

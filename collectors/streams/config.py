"""Agents, queues and memberships, imported from the vendor's real-time API every hour.

`collectors.config_import.import_config` upserts the snapshot; an answer that would
deactivate too much of the roster is held (`SuspiciousConfig`) and the run fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors.streams.base import Job, Stream, Written
from integrations.vendors.base import REALTIME, STREAM_CONFIG
from integrations.vendors.records import ConfigSnapshot

if TYPE_CHECKING:
    from integrations.models import VendorConnection


def config_interval(connection: VendorConnection) -> int:
    from collectors.conf import app_settings

    return app_settings.CONFIG_INTERVAL_SECONDS


STREAM = Stream(
    key=STREAM_CONFIG,
    label="Configuration",
    record=ConfigSnapshot,
    fetch="fetch_config",
    collect="collectors.streams.config.collect",
    queue="config",
    interval=config_interval,
    sections=(REALTIME,),
    grace_seconds=3600,
    spread_over_interval=True,
)


def collect(job: Job) -> Written:
    from django.db import transaction

    from collectors.config_import import SuspiciousConfig, import_config

    snapshot: ConfigSnapshot = job.fetch()
    try:
        with transaction.atomic():
            counts = import_config(job.connection, snapshot, job.now)
            written = Written(counts.added, counts.changed, counts.deactivated, counts.notes)
            job.finish(written)
    except SuspiciousConfig as exc:
        exc.hold(job.connection, job.now)  # kept although the run fails: the next run judges by it
        raise
    return written

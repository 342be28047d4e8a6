"""The sync on migrate: every connection's schedules in step, in a few set-based statements."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from collectors.models import CollectionSchedule
from collectors.schedules import sync_all, sync_schedules
from integrations.models import VendorConnection
from tests.collectors.enginekit import T0
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

COMPARED = ("connection_id", "stream", "enabled", "interval_seconds", "next_run_at", "status")


def clones(template: VendorConnection, count: int) -> list[VendorConnection]:
    """Connections written without save(): no signal, so no schedule rows."""
    rows = []
    for n in range(count):
        clone = VendorConnection.objects.get(pk=template.pk)
        clone.pk, clone.name = None, f"{template.name}-{n}"
        rows.append(clone)
    return VendorConnection.objects.bulk_create(rows)


def mixed_connections(tenant) -> None:
    """In step, missing, longer and shorter intervals, a paused stream and an undeclared one."""
    with time_machine.travel(T0 - td(days=1), tick=False):
        in_step = make_connection(tenant, "8x8", "in-step")
        longer = make_connection(tenant, "8x8", "longer")
        shorter = make_connection(tenant, "8x8", "shorter")
        paused = make_connection(tenant, "tcn", "paused")
        extra = make_connection(tenant, "8x8", "extra")
        clones(in_step, 3)
    CollectionSchedule.objects.update(next_run_at=T0 + td(hours=2))
    # Written without save(): the schedules still hold the old polling intervals.
    VendorConnection.objects.filter(pk=longer.pk).update(interval_seconds=600)
    VendorConnection.objects.filter(pk=shorter.pk).update(interval_seconds=5)
    CollectionSchedule.objects.filter(connection=paused, stream="config").update(
        enabled=False, status="paused"
    )
    # A stream the vendor does not declare (e.g. one it no longer supplies).
    CollectionSchedule.objects.create(
        connection=extra, stream="file_drop", interval_seconds=900, next_run_at=T0, status="ok"
    )
    CollectionSchedule.objects.create(
        connection=in_step, stream="file_drop", interval_seconds=900, next_run_at=T0, enabled=False
    )


def rows() -> list[tuple]:
    return list(CollectionSchedule.objects.order_by("connection_id", "stream").values_list(*COMPARED))


def test_syncing_all_at_once_leaves_the_rows_syncing_each_connection_leaves(tenant_a, settings):
    mixed_connections(tenant_a)
    settings.COLLECT_CONFIG_INTERVAL_SECONDS = 7200
    before = list(CollectionSchedule.objects.values())
    with time_machine.travel(T0, tick=False):
        for connection in VendorConnection.objects.order_by("pk"):
            sync_schedules(connection)
    one_by_one = rows()
    CollectionSchedule.objects.all().delete()
    CollectionSchedule.objects.bulk_create([CollectionSchedule(**row) for row in before])
    with time_machine.travel(T0, tick=False):
        assert sync_all() == VendorConnection.objects.count()
    at_once = rows()
    assert at_once == one_by_one
    # The mix really exercised every branch.
    by_key = {(r[0], r[1]): r for r in at_once}
    assert len(at_once) > len(before)
    assert {r[3] for r in at_once} >= {5, 600, 7200}
    assert any(r[1] == "file_drop" and not r[2] and r[5] == "ok" for r in at_once)
    assert any(r[4] == T0 + td(seconds=5) for r in by_key.values())
    assert any(r[2] is False and r[5] == "paused" for r in at_once)


def test_a_second_sync_changes_nothing(tenant_a):
    mixed_connections(tenant_a)
    with time_machine.travel(T0, tick=False):
        sync_all()
    first = rows()
    with time_machine.travel(T0 + td(minutes=5), tick=False):
        sync_all()
    assert rows() == first


def sync_queries(tenant, count: int) -> int:
    template = make_connection(tenant, "8x8", f"template-{count}")
    clones(template, count - 1)
    # Every kind of write: missing rows, a changed interval, an undeclared stream.
    VendorConnection.objects.filter(pk=template.pk).update(interval_seconds=20)
    CollectionSchedule.objects.create(
        connection=template, stream="file_drop", interval_seconds=900, next_run_at=T0
    )
    with CaptureQueriesContext(db_connection) as queries:
        sync_all()
    mine = CollectionSchedule.objects.filter(connection__name__startswith=f"template-{count}")
    assert mine.filter(enabled=True).count() == 3 * count
    assert mine.get(connection=template, stream="agent_states").interval_seconds == 20
    assert not mine.get(connection=template, stream="file_drop").enabled
    CollectionSchedule.objects.all().delete()
    VendorConnection.objects.all().delete()
    return len(queries)


def test_the_sync_makes_as_many_queries_for_100_connections_as_for_10(tenant_a):
    assert sync_queries(tenant_a, 10) == sync_queries(tenant_a, 100)

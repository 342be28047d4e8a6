"""Fixed credentials re-test every stream of the connection at once, and only once."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.urls import reverse

from collectors import dispatch
from collectors.models import CollectionSchedule
from collectors.retest import retest
from integrations.models import VendorConnection
from tests.collectors.healthkit import T0

pytestmark = pytest.mark.django_db

LATER = T0 + td(hours=1)


@pytest.fixture
def waiting(conn_a, conn_b) -> VendorConnection:
    """Every stream of both connections next due in an hour, none leased."""
    CollectionSchedule.objects.update(next_run_at=LATER, lease_until=None, lease_id="", enabled=True)
    return conn_a


def due_streams(conn: VendorConnection) -> set[str]:
    return set(
        CollectionSchedule.objects.filter(connection=conn, next_run_at__lte=T0).values_list(
            "stream", flat=True
        )
    )


def all_streams(conn: VendorConnection) -> set[str]:
    return set(CollectionSchedule.objects.filter(connection=conn).values_list("stream", flat=True))


@time_machine.travel(T0, tick=False)
def test_a_changed_secret_makes_every_stream_of_the_connection_due_now(waiting, conn_b):
    waiting.set_values("realtime", {"access_token": "tcn-token-fixed-0123456789"})
    waiting.save()
    assert due_streams(waiting) == all_streams(waiting) != set()
    # The other tenant's connection is untouched.
    assert due_streams(conn_b) == set()


@time_machine.travel(T0, tick=False)
def test_a_save_that_leaves_the_credentials_alone_changes_no_schedule(waiting):
    waiting.interval_seconds = 120
    waiting.save()
    waiting.set_values("realtime", {"access_token": "tcn-token-0123456789abcdef"})  # the same token
    waiting.save()
    assert due_streams(waiting) == set()


@time_machine.travel(T0, tick=False)
def test_a_changed_base_url_counts_as_changed_credentials(waiting):
    waiting.set_values("realtime", {"access_token": "tcn-token-again-0123456789"})
    waiting.realtime_base_url = "https://api.bz.tcn.com"
    waiting.save()
    assert due_streams(waiting) == all_streams(waiting)


@time_machine.travel(T0, tick=False)
def test_a_paused_stream_stays_paused(waiting):
    CollectionSchedule.objects.filter(connection=waiting, stream="agent_states").update(enabled=False)
    waiting.set_values("realtime", {"access_token": "tcn-token-fixed-0123456789"})
    waiting.save()
    assert "agent_states" not in due_streams(waiting)


@time_machine.travel(T0, tick=False)
def test_the_connections_file_retests_a_connection_whose_token_it_replaces(waiting):
    from wfm_site.connections_file import import_text

    text = """
tenants:
  - slug: acme
    connections:
      - name: tcn-main
        vendor: tcn
        realtime: {access_token: tcn-token-from-yaml-0123456789}
        history: {drop_folder: /tmp/drop}
"""
    import_text(text, dry_run=True)
    assert due_streams(waiting) == set()  # a dry run changes nothing
    import_text(text)
    assert due_streams(waiting) == all_streams(waiting)


@time_machine.travel(T0, tick=False)
def test_the_admin_form_retests_a_connection_whose_token_is_replaced(client, superuser, waiting):
    client.force_login(superuser)
    url = reverse("admin:integrations_vendorconnection_change", args=[waiting.pk])
    response = client.get(url)
    assert response.status_code == 200
    data = {
        **{k: v for k, v in response.context["adminform"].form.initial.items() if isinstance(v, str)},
        "name": waiting.name,
        "enabled": "on",
        "realtime_base_url": waiting.realtime_base_url,
        "interval_minutes": f"{waiting.interval_seconds / 60:g}",
        "time_zone": waiting.time_zone,
        "realtime_access_token": "tcn-token-typed-0123456789",
        "options": "{}",
        "state_map": "{}",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert due_streams(waiting) == all_streams(waiting)


def test_two_saves_at_once_dispatch_each_stream_once(waiting):
    with time_machine.travel(T0, tick=False):
        retest(waiting.pk)
        retest(waiting.pk)  # a second save of the same fix: still one run per stream
        sent: list[dispatch.Claim] = []
        dispatch.dispatch_due(enqueue=sent.append)
        dispatch.dispatch_due(enqueue=sent.append)
    ours = [c for c in sent if CollectionSchedule.objects.get(pk=c.schedule_id).connection_id == waiting.pk]
    assert sorted(c.stream for c in ours) == sorted(
        s for s in all_streams(waiting) if s in dispatch.dispatched_streams()
    )


def test_a_fix_while_a_run_is_in_flight_waits_for_its_lease(waiting):
    schedule = CollectionSchedule.objects.filter(connection=waiting).first()
    assert schedule is not None
    CollectionSchedule.objects.filter(pk=schedule.pk).update(lease_until=T0 + td(minutes=5), lease_id="x")
    with time_machine.travel(T0, tick=False):
        retest(waiting.pk)
        sent: list[dispatch.Claim] = []
        dispatch.dispatch_due(enqueue=sent.append)
    assert schedule.pk not in {c.schedule_id for c in sent}
    # Once the run in flight lets go, the stream runs again with the new credentials.
    CollectionSchedule.objects.filter(pk=schedule.pk).update(lease_until=None, lease_id="")
    with time_machine.travel(T0 + td(seconds=5), tick=False):
        dispatch.dispatch_due(enqueue=sent.append)
    assert schedule.pk in {c.schedule_id for c in sent}

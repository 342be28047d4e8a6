"""Incremental sync: a consumer that stores the cursor and calls again gets every change exactly
once, revisions included, and its copy ends equal to the database."""

from __future__ import annotations

import heapq
from datetime import timedelta as td

import pytest

from collectors.agent_states import apply_snapshot
from collectors.config_import import import_config
from collectors.models import Agent, AgentStateEvent, IntervalVolume, Queue
from collectors.writers import upsert_intervals
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    QueueRecord,
    StateSnapshot,
)
from tests.api.conftest import T0, bearer
from tests.api.synckit import sync, sync_csv
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def table_of_intervals(conn) -> dict[int, tuple]:
    return {
        pk: (start, entered, abandoned, handle)
        for pk, start, entered, abandoned, handle in IntervalVolume.objects.filter(
            connection=conn
        ).values_list("id", "interval_start", "entered", "abandoned", "handle_seconds")
    }


def copy_of_intervals(copy: dict[int, dict]) -> dict[int, tuple]:
    from django.utils.dateparse import parse_datetime

    return {
        pk: (
            parse_datetime(r["interval_start"]),
            int(r["entered"]),
            int(r["abandoned"]),
            int(r["handle_seconds"]),
        )
        for pk, r in copy.items()
    }


def collect(conn, at, revisions: dict[int, int], new: int = 0) -> None:
    """A history run re-reading the lookback: some intervals revised, some new, the rest unchanged."""
    records = [
        IntervalRecord("q-A", T0 - td(minutes=15 * i), revisions.get(i, 10 + i), 1, 300) for i in range(3)
    ]
    records += [IntervalRecord("q-A", T0 + td(minutes=15 * (i + 1)), 5, 0, 100) for i in range(new)]
    upsert_intervals(conn, records, at)


@pytest.mark.parametrize("page", [1, 2, 500])
def test_revisions_between_calls_arrive_once_and_the_copy_ends_equal_to_the_table(client, seeded, keys, page):
    conn_a, _ = seeded
    key = keys["manager_a"]
    copy: dict[int, dict] = {}
    cursor, received = sync(client, key, "intervals", None, copy, limit=page)
    assert received == 3

    collect(conn_a, T0 + td(minutes=20), {0: 40}, new=1)  # one revised, one new
    cursor, received = sync(client, key, "intervals", cursor, copy, limit=page)
    assert received == 2

    cursor, received = sync(client, key, "intervals", cursor, copy, limit=page)
    assert received == 0  # nothing changed: nothing comes again

    collect(conn_a, T0 + td(minutes=35), {0: 41, 2: 7}, new=2)  # two revised (one again), one new
    cursor, received = sync(client, key, "intervals", cursor, copy, limit=page)
    assert received == 3
    assert copy_of_intervals(copy) == table_of_intervals(conn_a)


def test_an_event_closed_later_and_a_renamed_queue_come_again(client, seeded, keys):
    conn_a, _ = seeded
    key = keys["manager_a"]
    events, queues, agents = {}, {}, {}
    ev_cursor, _ = sync(client, key, "state-events", None, events)
    q_cursor, _ = sync(client, key, "queues", None, queues)
    a_cursor, _ = sync(client, key, "agents", None, agents)
    open_busy = AgentStateEvent.objects.get(connection=conn_a, agent__vendor_id="a-A", end=None)
    assert events[open_busy.pk]["end"] is None

    apply_snapshot(
        conn_a,
        StateSnapshot(
            observed_at=T0 + td(seconds=60),
            agents=[AgentStateRecord("a-A", "wrap_up"), AgentStateRecord("b-A", "break")],
            complete=True,
            notes=[],
        ),
        interval_seconds=30,
    )
    import_config(
        conn_a,
        ConfigSnapshot(
            queues=[QueueRecord("q-A", "Queue A renamed")], agents=[AgentRecord("a-A", "Agent A")]
        ),
        T0 + td(hours=1),
    )
    ev_cursor, got = sync(client, key, "state-events", ev_cursor, events)
    assert got == 2  # the busy event closed, the wrap-up event opened; b-A unchanged
    assert events[open_busy.pk]["end"] == "2026-03-02T12:01:00Z"
    q_cursor, got = sync(client, key, "queues", q_cursor, queues)
    assert got == 1
    assert queues[Queue.objects.get(connection=conn_a).pk]["name"] == "Queue A renamed"
    a_cursor, got = sync(client, key, "agents", a_cursor, agents)
    assert got == 1  # b-A left the roster: deactivated, so changed
    assert agents[Agent.objects.get(vendor_id="b-A").pk]["active"] is False
    assert {pk: e["end"] for pk, e in events.items()} == {
        e.pk: e.end.isoformat().replace("+00:00", "Z") if e.end else None
        for e in AgentStateEvent.objects.filter(connection=conn_a)
    }


def test_a_csv_sync_and_its_cursor_give_the_same_rows_as_json(client, seeded, keys):
    conn_a, _ = seeded
    key = keys["manager_a"]
    copy: dict[int, dict] = {}
    cursor, received = sync_csv(client, key, "intervals", None, copy)
    assert received == 3
    collect(conn_a, T0 + td(minutes=20), {1: 99}, new=1)
    cursor, received = sync_csv(client, key, "intervals", cursor, copy)
    assert received == 2
    cursor, received = sync_csv(client, key, "intervals", cursor, copy)
    assert received == 0
    assert copy_of_intervals(copy) == table_of_intervals(conn_a)


def test_a_csv_of_more_rows_than_one_chunk_streams_them_all_in_order(
    client, conn_a, keys, no_horizon, monkeypatch
):
    monkeypatch.setattr("api.csv.CHUNK", 7)
    upsert_intervals(conn_a, [IntervalRecord("q", T0 - td(minutes=15 * i), i, 0, 0) for i in range(30)], T0)
    copy: dict[int, dict] = {}
    response = client.get("/api/v1/intervals/", {"format": "csv"}, **bearer(keys["manager_a"]))
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 5  # the header, then 7 + 7 + 7 + 7 + 2 rows
    _cursor, received = sync_csv(client, keys["manager_a"], "intervals", None, copy)
    assert received == 30
    in_change_order = IntervalVolume.objects.order_by("change_txid", "change_seq").values_list(
        "id", flat=True
    )
    assert list(copy) == list(in_change_order)


def test_a_cursor_older_than_its_validity_gets_410(client, seeded, keys, settings, time_machine):
    settings.API_CURSOR_MAX_AGE_DAYS = 7
    time_machine.move_to(T0, tick=False)
    cursor, _ = sync(client, keys["manager_a"], "intervals", None, {})
    time_machine.move_to(T0 + td(days=6), tick=False)
    assert client.get("/api/v1/intervals/", {"after": cursor}, **bearer(keys["manager_a"])).status_code == 200
    time_machine.move_to(T0 + td(days=7, seconds=1), tick=False)
    response = client.get("/api/v1/intervals/", {"after": cursor}, **bearer(keys["manager_a"]))
    assert response.status_code == 410
    assert "sync again" in response.json()["detail"]


def test_polling_with_nothing_new_keeps_the_cursor_fresh(client, seeded, keys, settings, time_machine):
    settings.API_CURSOR_MAX_AGE_DAYS = 7
    time_machine.move_to(T0, tick=False)
    cursor, _ = sync(client, keys["manager_a"], "intervals", None, {})
    for day in range(1, 20, 3):
        time_machine.move_to(T0 + td(days=day), tick=False)
        cursor, received = sync(client, keys["manager_a"], "intervals", cursor, {})
        assert received == 0


@pytest.mark.parametrize("bad", ["garbage", "W1sxLDJdLDFd"])
def test_a_cursor_not_issued_by_the_api_is_refused(client, seeded, keys, bad):
    response = client.get("/api/v1/intervals/", {"after": bad}, **bearer(keys["manager_a"]))
    assert response.status_code == 400
    assert "after" in response.json()


def test_a_cursor_of_another_resource_is_refused(client, seeded, keys):
    cursor, _ = sync(client, keys["manager_a"], "runs", None, {})
    response = client.get("/api/v1/intervals/", {"after": cursor}, **bearer(keys["manager_a"]))
    assert response.status_code == 400


def test_another_tenants_cursor_shows_only_the_keys_own_rows(client, seeded, keys):
    cursor_b, _ = sync(client, keys["manager_b"], "intervals", None, {})
    copy: dict[int, dict] = {}
    sync(client, keys["manager_a"], "intervals", None, copy)
    after_b: dict[int, dict] = {}
    sync(client, keys["manager_a"], "intervals", cursor_b, after_b)
    assert set(after_b) <= set(copy)


@pytest.mark.parametrize(("limit", "status"), [("0", 400), ("5001", 400), ("x", 400), ("5000", 200)])
def test_the_page_size_is_capped(client, seeded, keys, limit, status):
    response = client.get("/api/v1/intervals/", {"limit": limit}, **bearer(keys["manager_a"]))
    assert response.status_code == status


@pytest.mark.parametrize("value", ["yesterday", "2026-03-02T12:00:00"])
def test_a_bad_time_filter_is_refused_naming_it(client, seeded, keys, value):
    response = client.get("/api/v1/intervals/", {"start": value}, **bearer(keys["manager_a"]))
    assert response.status_code == 400
    assert "start" in response.json()


def test_times_are_iso_8601_utc_with_a_z(client, seeded, keys):
    row = client.get("/api/v1/intervals/", {"limit": 1}, **bearer(keys["manager_a"])).json()["results"][0]
    assert row["interval_start"].endswith("Z") and row["collected_at"].endswith("Z")


def test_id_ordered_lists_page_without_repeats_or_gaps(client, seeded, keys):
    copy: dict[int, dict] = {}
    _cursor, received = sync(client, keys["manager_a"], "runs", None, copy, limit=1)
    assert received == len(copy) == 2


def test_a_tenant_wide_sync_merges_its_connections_in_change_order(client, seeded, keys, tenant_a):
    conn_a, _ = seeded
    second = make_connection(tenant_a, "8x8", "second")
    for n in range(3):  # the two connections' rows interleave in change order
        for conn in (conn_a, second):
            upsert_intervals(conn, [IntervalRecord(f"q{n}", T0 + td(minutes=15 * n), n, 0, 0)], T0)
    copy: dict[int, dict] = {}
    seen: list[int] = []
    cursor = None
    while True:
        response = client.get(
            "/api/v1/intervals/",
            {"limit": 2, **({"after": cursor} if cursor else {})},
            **bearer(keys["manager_a"]),
        ).json()
        seen += [r["id"] for r in response["results"]]
        copy.update({r["id"]: r for r in response["results"]})
        cursor = response["next"]
        if not response["has_more"]:
            break
    in_order = IntervalVolume.objects.filter(connection__tenant=tenant_a).order_by(
        "change_txid", "change_seq"
    )
    assert seen == list(in_order.values_list("id", flat=True))
    assert {r["connection"] for r in copy.values()} == {conn_a.pk, second.pk}


def test_a_row_that_moves_while_a_page_is_read_comes_once_at_its_new_place(client, seeded, keys, monkeypatch):
    conn_a, _ = seeded
    key = keys["manager_a"]
    copy: dict[int, dict] = {}
    cursor, _ = sync(client, key, "intervals", None, copy)
    collect(conn_a, T0 + td(minutes=20), {}, new=2)
    merge = heapq.merge
    moved = []

    def merge_then_revise(*heads):
        # Between reading a page's positions and its values, a collection revises the first row.
        merged = list(merge(*heads))
        if not moved:
            moved.append(merged[0][2])
            IntervalVolume.objects.filter(pk=moved[0]).update(entered=77)
        return iter(merged)

    monkeypatch.setattr("api.changes.heapq.merge", merge_then_revise)
    response = client.get("/api/v1/intervals/", {"after": cursor}, **bearer(key)).json()
    new = set(
        IntervalVolume.objects.filter(connection=conn_a, interval_start__gt=T0).values_list("id", flat=True)
    )
    assert [r["id"] for r in response["results"]] == sorted(new - {moved[0]})
    cursor, received = sync(client, key, "intervals", response["next"], copy)
    assert received == 1
    assert copy[moved[0]]["entered"] == 77

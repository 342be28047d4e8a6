# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""Retention: each table's policy deletes what is past its window and keeps what must stay."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import timedelta as td
from unittest import mock

import pytest

from collectors import gaps, health, retention
from collectors.models import (
    Agent,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    DropCall,
    DropFile,
    HealthFlip,
    IntervalVolume,
    RetentionHorizon,
    call_key_of,
)
from collectors.retention import prune, retention_horizon
from tests.collectors.drops_helpers import drop_conn, drop_root, folder  # noqa: F401
from tests.collectors.healthkit import add_interval, make_queue, make_run, make_schedule, record
from tokens.models import AccessToken, BannerShown, TokenAlert, TokenDigest

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = td(days=1)


def ids(model, **filters) -> set[int]:
    return set(model.objects.filter(**filters).values_list("pk", flat=True))


def outcome(outcomes, name: str) -> retention.Outcome:
    return next(o for o in outcomes if o.policy == name)


# --- runs ------------------------------------------------------------------------------------


def test_it_deletes_successful_runs_past_their_window_and_keeps_those_inside(conn_a):
    """Seven days, stretched to the gap window and a day (eight with the default seven)."""
    make_schedule(conn_a, "volume")
    old = [make_run(conn_a, "volume", CollectionRun.OK, NOW - td(days=d)) for d in (20, 10, 8.1)]
    recent = [make_run(conn_a, "volume", CollectionRun.OK, NOW - td(days=d)) for d in (7.9, 1)]
    prune(NOW)
    assert ids(CollectionRun) == {r.pk for r in recent}
    assert old  # three made, all gone


def test_it_keeps_every_streams_last_success_and_last_run_however_old(conn_a, conn_b):
    make_schedule(conn_a, "config")
    make_schedule(conn_b, "config")
    make_run(conn_a, "config", CollectionRun.OK, NOW - td(days=120))
    last_ok_a = make_run(conn_a, "config", CollectionRun.OK, NOW - td(days=110))
    last_a = make_run(conn_a, "config", CollectionRun.FAILED, NOW - td(days=100))
    last_ok_b = make_run(conn_b, "config", CollectionRun.OK, NOW - td(days=30))
    prune(NOW)
    assert ids(CollectionRun) == {last_ok_a.pk, last_a.pk, last_ok_b.pk}


def test_failed_runs_stay_ninety_days(conn_a):
    sched = make_schedule(conn_a, "volume")
    record(sched, CollectionRun.OK, NOW - DAY)
    failed_old = make_run(conn_a, "volume", CollectionRun.FAILED, NOW - td(days=100))
    failed_kept = make_run(conn_a, "volume", CollectionRun.AUTH_FAILED, NOW - td(days=80))
    retried_old = make_run(conn_a, "volume", CollectionRun.RETRYING, NOW - td(days=95))
    abandoned_old = make_run(conn_a, "volume", CollectionRun.ABANDONED, NOW - td(days=91))
    abandoned_kept = make_run(conn_a, "volume", CollectionRun.ABANDONED, NOW - td(days=89))
    prune(NOW)
    remaining = ids(CollectionRun)
    assert {failed_kept.pk, abandoned_kept.pk} <= remaining
    assert not {failed_old.pk, retried_old.pk, abandoned_old.pk} & remaining


def test_what_the_health_monitor_reads_is_the_same_after_pruning(conn_a):
    """Its last finished run's status and the start of the current failing streak."""
    sched = make_schedule(conn_a, "volume")
    record(sched, CollectionRun.OK, NOW - td(days=200))
    streak = [make_run(conn_a, "volume", CollectionRun.FAILED, NOW - td(days=d)) for d in (150, 120, 100)]
    CollectionSchedule.objects.filter(pk=sched.pk).update(consecutive_failures=3)
    before = health.annotated(CollectionSchedule.objects.filter(pk=sched.pk)).get()
    prune(NOW)
    after = health.annotated(CollectionSchedule.objects.filter(pk=sched.pk)).get()
    assert (after.last_run_status, after.streak_started) == (before.last_run_status, before.streak_started)
    assert after.streak_started == streak[0].started_at
    assert streak[1].pk not in ids(CollectionRun)  # the middle of the streak could go


def test_running_runs_are_never_deleted(conn_a):
    make_schedule(conn_a, "volume")
    running = CollectionRun.objects.create(connection=conn_a, stream="volume", started_at=NOW - td(days=400))
    prune(NOW)
    assert ids(CollectionRun) == {running.pk}


def test_successful_agent_state_polls_stay_two_days(conn_a):
    make_schedule(conn_a, "agent_states")
    old = [make_run(conn_a, "agent_states", CollectionRun.OK, NOW - td(hours=h)) for h in (72, 50)]
    recent = [make_run(conn_a, "agent_states", CollectionRun.OK, NOW - td(hours=h)) for h in (47, 1)]
    prune(NOW)
    assert ids(CollectionRun) == {r.pk for r in recent}
    assert len(old) == 2


def test_ok_history_runs_outlive_a_shorter_setting_while_gap_detection_reads_them(conn_a, settings):
    settings.RETENTION_RUNS_OK_DAYS = 1
    settings.HEALTH_GAP_DAYS = 7
    from collectors.runs import store_outcome

    sched = make_schedule(conn_a, "volume")
    # A run that covered a window of no intervals (nothing to store) still counts as collected.
    for d in (6, 3):
        start = (NOW - td(days=d)).replace(minute=0)
        window = (start, start + td(hours=1))
        run = make_run(conn_a, "volume", CollectionRun.OK, start + td(hours=1), window=window)
        store_outcome(sched, run, run.finished_at)
    make_run(conn_a, "volume", CollectionRun.OK, NOW - td(minutes=20))
    created = NOW - td(days=10)
    before = gaps.coverage([(conn_a.pk, created)], NOW)[conn_a.pk].gaps
    prune(NOW)
    assert gaps.coverage([(conn_a.pk, created)], NOW)[conn_a.pk].gaps == before
    assert CollectionRun.objects.count() == 3


# --- agent state events and intervals: the tenant's own retention -----------------------------


def make_events(conn, ages: list[int], open_age: int | None = None) -> list[AgentStateEvent]:
    agent = Agent.objects.create(connection=conn, vendor_id="a1", name="a1", first_seen=NOW, last_seen=NOW)
    out = []
    for days in ages:
        start = NOW - td(days=days)
        out.append(
            AgentStateEvent.objects.create(
                connection=conn, agent=agent, state="available", start=start, end=start + td(hours=1)
            )
        )
    if open_age is not None:
        out.append(
            AgentStateEvent.objects.create(
                connection=conn, agent=agent, state="break", start=NOW - td(days=open_age)
            )
        )
    return out


def test_a_tenants_retention_never_deletes_another_tenants_rows(conn_a, conn_b, tenant_a):
    tenant_a.data_retention_days = 30
    tenant_a.save()
    events_a = make_events(conn_a, [100, 40, 10])
    events_b = make_events(conn_b, [100, 40, 10])
    qa, qb = make_queue(conn_a), make_queue(conn_b)
    intervals_a = [add_interval(qa, NOW.replace(minute=0) - td(days=d)) for d in (100, 40, 10)]
    intervals_b = [add_interval(qb, NOW.replace(minute=0) - td(days=d)) for d in (100, 40, 10)]
    prune(NOW)
    assert ids(AgentStateEvent, connection=conn_b) == {e.pk for e in events_b}
    assert ids(IntervalVolume, connection=conn_b) == {i.pk for i in intervals_b}
    assert ids(AgentStateEvent, connection=conn_a) == {events_a[2].pk}
    assert ids(IntervalVolume, connection=conn_a) == {intervals_a[2].pk}
    assert retention_horizon(AgentStateEvent, tenant_a) == NOW - td(days=30)
    assert retention_horizon(AgentStateEvent, conn_b.tenant) is None


def test_without_a_tenant_retention_events_and_intervals_are_kept(conn_a):
    events = make_events(conn_a, [3000, 400])
    queue = make_queue(conn_a)
    intervals = [add_interval(queue, NOW.replace(minute=0) - td(days=d)) for d in (3000, 400)]
    prune(NOW)
    assert ids(AgentStateEvent) == {e.pk for e in events}
    assert ids(IntervalVolume) == {i.pk for i in intervals}


def test_an_open_event_and_a_connections_newest_interval_stay_however_old(conn_a, tenant_a):
    tenant_a.data_retention_days = 30
    tenant_a.save()
    events = make_events(conn_a, [200], open_age=100)
    queue = make_queue(conn_a)
    intervals = [add_interval(queue, NOW.replace(minute=0) - td(days=d)) for d in (300, 200)]
    prune(NOW)
    assert ids(AgentStateEvent) == {events[1].pk}
    assert ids(IntervalVolume) == {intervals[1].pk}


def test_a_retention_stored_below_the_minimum_still_keeps_thirty_days(conn_a, tenant_a):
    from integrations.models import Tenant

    Tenant.objects.filter(pk=tenant_a.pk).update(data_retention_days=1)
    events = make_events(conn_a, [40, 20])
    prune(NOW)
    assert ids(AgentStateEvent) == {events[1].pk}


def test_the_admin_form_refuses_a_retention_under_thirty_days(tenant_a):
    from integrations.forms import TenantForm

    data = {"name": tenant_a.name, "slug": tenant_a.slug, "time_zone": "UTC", "active": True}
    form = TenantForm(data={**data, "data_retention_days": 7}, instance=tenant_a)
    assert not form.is_valid()
    assert "data_retention_days" in form.errors
    assert TenantForm(data={**data, "data_retention_days": ""}, instance=tenant_a).is_valid()


# --- the TCN call ledger and the drop files ------------------------------------------------------


def drop_file(conn, name: str, received: datetime) -> DropFile:
    return DropFile.objects.create(
        connection=conn,
        name=name,
        sha256=name.ljust(64, "0"),
        size=1,
        received_at=received,
        status="ingested",
    )


def add_calls(conn, file: DropFile | None, n: int, start: datetime) -> list[int]:
    rows = [
        DropCall(
            connection=conn,
            call_key=call_key_of("Sales", f"{file.name if file else 'orphan'}-{i}"),
            interval_start=start,
            file=file,
        )
        for i in range(n)
    ]
    return [c.pk for c in DropCall.objects.bulk_create(rows)] if rows else []


def test_calls_go_fourteen_days_after_their_file_arrived_and_the_ledger_after_ninety(conn_a):
    ancient = drop_file(conn_a, "ancient", NOW - td(days=100))
    old = drop_file(conn_a, "old", NOW - td(days=20))
    new = drop_file(conn_a, "new", NOW - td(days=2))
    add_calls(conn_a, old, 3, NOW - td(days=20))
    kept = add_calls(conn_a, new, 2, NOW - td(days=2))
    orphan_old = add_calls(conn_a, None, 1, NOW - td(days=30))
    prune(NOW)
    assert ids(DropCall) == set(kept)
    assert not set(orphan_old) & ids(DropCall)
    assert ids(DropFile) == {old.pk, new.pk}
    assert ancient.pk not in ids(DropFile)
    assert retention_horizon(DropCall) == NOW - td(days=14)


def test_a_connections_newest_drop_file_stays_however_old(conn_a):
    only = drop_file(conn_a, "only", NOW - td(days=400))
    prune(NOW)
    assert ids(DropFile) == {only.pk}


# --- flips, token alerts and digests, banners ------------------------------------------------


def test_processed_flips_stay_a_year_and_unsent_ones_stay(conn_a):
    def flip(age: int, processed: bool) -> HealthFlip:
        created = NOW - td(days=age)
        return HealthFlip.objects.create(
            connection=conn_a,
            stream="volume",
            old_status="ok",
            new_status="late",
            created=created,
            processed=created if processed else None,
        )

    gone, kept, unsent = flip(400, True), flip(300, True), flip(400, False)
    prune(NOW)
    assert ids(HealthFlip) == {kept.pk, unsent.pk}
    assert gone.pk


def test_token_alerts_of_past_expiries_go_after_a_year_but_not_the_current_cycles(conn_a, owner_a):
    token = AccessToken.objects.create(
        connection=conn_a,
        section="realtime",
        owner=owner_a,
        issued=date(2024, 1, 1),
        expires=date(2025, 1, 1),
    )

    def alert(expires: date, stage: str, age: int, sent: bool = True) -> TokenAlert:
        created = NOW - td(days=age)
        return TokenAlert.objects.create(
            token=token,
            expires=expires,
            stage=stage,
            day=created.date(),
            days_left=0,
            created=created,
            sent_at=created if sent else None,
        )

    past = alert(date(2024, 1, 1), "d0", 500)
    past_recent = alert(date(2024, 1, 1), "d1", 200)
    past_unsent = alert(date(2024, 1, 1), "expired", 450, sent=False)
    # Never renewed: deleting its `expired` stage would have the reminder pass send it again.
    current = alert(date(2025, 1, 1), "expired", 500)
    digest_old = TokenDigest.objects.create(
        tenant=conn_a.tenant, day=date(2024, 1, 1), sent_at=NOW - td(days=500)
    )
    digest_new = TokenDigest.objects.create(
        tenant=conn_a.tenant, day=date(2026, 1, 1), sent_at=NOW - td(days=100)
    )
    TokenDigest.objects.filter(pk=digest_old.pk).update(created=NOW - td(days=500))
    prune(NOW)
    assert ids(TokenAlert) == {past_recent.pk, past_unsent.pk, current.pk}
    assert past.pk
    assert ids(TokenDigest) == {digest_new.pk}


def test_login_banner_marks_go_after_a_week(manager_a):
    BannerShown.objects.create(user=manager_a, day=(NOW - td(days=10)).date())
    kept = BannerShown.objects.create(user=manager_a, day=(NOW - td(days=2)).date())
    prune(NOW)
    assert ids(BannerShown) == {kept.pk}


# --- how pruning runs -----------------------------------------------------------------------------


def old_polls(conn, n: int) -> list[CollectionRun]:
    make_schedule(conn, "agent_states")
    make_run(conn, "agent_states", CollectionRun.OK, NOW - td(minutes=1))
    return [make_run(conn, "agent_states", CollectionRun.OK, NOW - td(days=10, minutes=i)) for i in range(n)]


def test_a_dry_run_counts_what_would_go_and_deletes_nothing(conn_a):
    old_polls(conn_a, 5)
    before = CollectionRun.objects.count()
    dry = outcome(prune(NOW, dry_run=True), "runs")
    assert dry.deleted == 5 and CollectionRun.objects.count() == before
    assert not RetentionHorizon.objects.filter(horizon__isnull=False).exists()
    assert outcome(prune(NOW), "runs").deleted == 5


@contextmanager
def counting_transactions():
    from django.db import transaction

    real = transaction.atomic
    entered: list[int] = []

    def atomic(*args, **kwargs):
        entered.append(1)
        return real(*args, **kwargs)

    with mock.patch.object(retention.transaction, "atomic", atomic):
        yield entered


def test_a_batch_size_of_two_deletes_everything_in_several_transactions(conn_a):
    old_polls(conn_a, 7)
    with counting_transactions() as entered:
        result = outcome(prune(NOW, batch_size=2, only=["runs"]), "runs")
    assert result.deleted == 7 and result.batches == 4
    # One transaction per batch (plus the horizon row's creation).
    assert len(entered) >= 4
    assert CollectionRun.objects.count() == 1


def test_a_second_prune_finds_nothing_left_to_do(conn_a):
    old_polls(conn_a, 3)
    assert outcome(prune(NOW), "runs").deleted == 3
    again = prune(NOW)
    assert sum(o.deleted for o in again) == 0


def test_the_horizon_is_recorded_and_never_moves_back(conn_a):
    polls = old_polls(conn_a, 2)
    prune(NOW)
    horizon = retention_horizon(CollectionRun)
    assert horizon == NOW - td(hours=48)
    row = RetentionHorizon.objects.get(table="collectors.collectionrun", tenant=None)
    assert row.rows_deleted == 2 and row.deleted_through_id == max(p.pk for p in polls)
    make_run(conn_a, "agent_states", CollectionRun.OK, NOW - td(days=30))
    prune(NOW - td(days=5))
    assert retention_horizon(CollectionRun) == horizon
    assert row.lease_until is None


def test_a_table_another_pruner_holds_is_left_to_it(conn_a):
    old_polls(conn_a, 3)
    RetentionHorizon.objects.create(
        table="collectors.collectionrun", lease_until=NOW + td(days=999), lease_id="other"
    )
    result = outcome(prune(NOW), "runs")
    assert result.busy and result.deleted == 0
    assert CollectionRun.objects.count() == 4


def test_a_pruner_that_lost_its_lease_stops_after_its_batch(conn_a):
    old_polls(conn_a, 6)

    def steal(self):
        RetentionHorizon.objects.filter(pk=self.row.pk).update(lease_id="other")
        return False

    with mock.patch.object(retention.Lease, "renew", steal):
        result = outcome(prune(NOW, batch_size=2, only=["runs"]), "runs")
    assert result.busy
    assert CollectionRun.objects.count() == 5  # one batch of two went
    assert RetentionHorizon.objects.get(table="collectors.collectionrun").lease_id == "other"


def test_an_unknown_table_or_a_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="unknown table nope"):
        prune(NOW, only=["nope"])
    with pytest.raises(ValueError, match="batch size"):
        prune(NOW, batch_size=-1)


def test_a_bad_setting_names_itself(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.RETENTION_RUNS_OK_DAYS = "week"
    with pytest.raises(ImproperlyConfigured, match="RETENTION_RUNS_OK_DAYS='week'"):
        prune(NOW)
    settings.RETENTION_RUNS_OK_DAYS = 0
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        prune(NOW)


def test_the_hourly_beat_task_prunes(conn_a):
    from wfm_site.celery import app

    entry = next(e for e in app.conf.beat_schedule.values() if e["task"] == "collectors.tasks.prune")
    assert entry["schedule"] == 3600.0
    old_polls(conn_a, 2)
    CollectionRun.objects.update(started_at=datetime.now(UTC) - td(days=10))
    make_run(conn_a, "agent_states", CollectionRun.OK, datetime.now(UTC))
    from collectors.tasks import prune as prune_task

    # The two old polls and the one `old_polls` made a minute before NOW, now also old.
    assert prune_task.apply().get() == 3


# --- a late file after the call ledger was pruned ---------------------------------------------


def test_calls_before_the_horizon_in_a_late_file_leave_their_intervals_alone(drop_conn, folder):
    """Without the horizon, a call pruned from the ledger and reported again would be stored
    anew, and its interval recomputed from that one call."""
    import time_machine

    from collectors.drops import INGESTED, ingest_path

    from .drops_helpers import calls

    (folder / "one.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,100,ANSWERED", "2,Sales,2025/01/15 09:05,50,ANSWERED")
    )
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        assert ingest_path(drop_conn, folder / "one.csv").status == INGESTED
    before = list(IntervalVolume.objects.values_list("interval_start", "entered", "handle_seconds"))
    later = datetime(2025, 2, 15, 12, 0, tzinfo=UTC)
    prune(later, only=["drop_calls"])
    assert not DropCall.objects.exists()
    (folder / "two.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,999,ABANDONED", "3,Sales,2025/02/15 03:50,30,ANSWERED")
    )
    with time_machine.travel(later, tick=False):
        assert ingest_path(drop_conn, folder / "two.csv").status == INGESTED
    old_interval = datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
    after = list(
        IntervalVolume.objects.filter(interval_start=old_interval).values_list(
            "interval_start", "entered", "handle_seconds"
        )
    )
    assert after == before == [(old_interval, 2, 150)]
    assert list(DropCall.objects.values_list("call_key", flat=True)) == [call_key_of("Sales", "3")]


def test_manage_py_check_names_a_bad_retention_setting(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.RETENTION_AGENT_STATE_RUNS_OK_HOURS = 3
    with pytest.raises(SystemCheckError, match=r"RETENTION_AGENT_STATE_RUNS_OK_HOURS=3: must be at least 25"):
        call_command("check")
    settings.RETENTION_AGENT_STATE_RUNS_OK_HOURS = 48
    call_command("check")


def test_finished_webhook_deliveries_stay_a_year_and_unfinished_ones_stay(tenant_a):
    from notifications.models import Delivery
    from tests.notifications.conftest import make_endpoint

    endpoint = make_endpoint(tenant_a, "https://hooks.example.com/x")

    def delivery(key: str, age: int, sent: bool) -> Delivery:
        created = NOW - td(days=age)
        return Delivery.objects.create(
            endpoint=endpoint,
            key=key,
            kind="stream_down",
            payload={},
            created=created,
            sent_at=created if sent else None,
        )

    gone, kept, pending = (
        delivery("flip:1", 400, True),
        delivery("flip:2", 300, True),
        delivery("flip:3", 400, False),
    )
    prune(NOW, only=["webhook_deliveries"])
    assert set(Delivery.objects.values_list("pk", flat=True)) == {kept.pk, pending.pk}
    assert gone.pk

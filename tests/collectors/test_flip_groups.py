"""The streams of one connection that fail (or recover) within a minute share one mail."""

from __future__ import annotations

import threading
from datetime import timedelta as td

import pytest
from django.db import connection, connections
from django.utils import timezone

from collectors import outbox
from collectors.models import CollectionSchedule, HealthFlip
from notifications.models import EmailAddress
from tests.collectors.healthkit import T0, make_schedule
from tests.collectors.smtpkit import Inbox, free_port, smtp_fixture  # noqa: F401 (the `smtp` fixture)
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
STREAMS = ("agent_states", "config", "volume")


@pytest.fixture
def manager(manager_a, manager_b) -> str:
    for user in (manager_a, manager_b):
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified_at": timezone.now()}
        )
    return manager_a.email


@pytest.fixture
def streams(conn_a) -> list[CollectionSchedule]:
    return [make_schedule(conn_a, s) for s in STREAMS]


def flip(conn, stream, old, new, at, reason="3 consecutive failures") -> HealthFlip:
    return HealthFlip.objects.create(
        connection=conn, stream=stream, old_status=old, new_status=new, reason=reason, created=at
    )


def fail_all(conn, at, step=td(seconds=20)) -> list[HealthFlip]:
    return [flip(conn, s, "ok", "auth_failed", at + i * step) for i, s in enumerate(STREAMS)]


def test_three_streams_failing_within_a_minute_make_one_mail(conn_a, streams, manager, smtp: Inbox):
    flips = fail_all(conn_a, T0)  # at T0, T0+20 s, T0+40 s
    assert outbox.send_pending_flips(now=T0 + td(seconds=50)) == 0  # the first waits out its minute
    assert outbox.send_pending_flips(now=T0 + td(seconds=60)) == 1
    mails = smtp.to(manager)
    assert len(mails) == 1
    assert mails[0]["Subject"].strip() == "[Switchboard] Acme Support · tcn-main: 3 streams down"
    body = Inbox.text(mails[0])
    for schedule in streams:
        assert f"{schedule.get_stream_display()}: ok → auth failed" in body
        assert f"/health/{schedule.pk}/" in body
    assert "Why: 3 consecutive failures" in body
    for f in flips:
        f.refresh_from_db()
        assert f.sent_at is not None and f.delivery == "sent" and f.delivered_to == [manager]
    # Nothing is left to send: later ticks mail nothing more.
    assert outbox.send_pending_flips(now=T0 + td(minutes=5)) == 0
    assert len(smtp.to(manager)) == 1


def test_a_failure_after_the_minute_gets_a_mail_of_its_own(conn_a, streams, manager, smtp: Inbox):
    flip(conn_a, "agent_states", "ok", "failing", T0)
    flip(conn_a, "config", "ok", "failing", T0 + td(seconds=30))
    flip(conn_a, "volume", "ok", "failing", T0 + td(seconds=90))
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    assert [m["Subject"].strip() for m in smtp.to(manager)] == [
        "[Switchboard] Acme Support · tcn-main: 2 streams down"
    ]
    outbox.send_pending_flips(now=T0 + td(seconds=150))
    assert (
        smtp.to(manager)[1]["Subject"].strip()
        == "[Switchboard] Acme Support · tcn-main Contact volume is failing"
    )


def test_each_tenants_connection_gets_its_own_mail(conn_a, conn_b, streams, manager, manager_b, smtp: Inbox):
    fail_all(conn_a, T0, step=td(0))
    for s in ("agent_states", "config"):
        make_schedule(conn_b, s)
        flip(conn_b, s, "ok", "late", T0)
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    a_mail, b_mail = smtp.to(manager), smtp.to(manager_b.email)
    assert len(a_mail) == 1 and len(b_mail) == 1
    assert "tcn-main" in a_mail[0]["Subject"] and "eight" not in Inbox.text(a_mail[0])
    assert "eight: 2 streams down" in b_mail[0]["Subject"] and "tcn-main" not in Inbox.text(b_mail[0])


def test_two_connections_of_one_tenant_are_not_mixed(conn_a, streams, manager, smtp: Inbox):
    other = make_connection(conn_a.tenant, "8x8", "eight-a")
    make_schedule(other, "agent_states")
    fail_all(conn_a, T0, step=td(0))
    flip(other, "agent_states", "ok", "failing", T0)
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    subjects = sorted(m["Subject"].strip() for m in smtp.to(manager))
    assert subjects == [
        "[Switchboard] Acme Support · eight-a Agent states is failing",
        "[Switchboard] Acme Support · tcn-main: 3 streams down",
    ]


def test_recoveries_of_one_connection_share_one_mail_with_each_streams_downtime(
    conn_a, streams, manager, smtp: Inbox
):
    fail_all(conn_a, T0, step=td(0))
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    smtp.messages.clear()
    back = T0 + td(hours=3, minutes=12)
    for s in STREAMS:
        flip(conn_a, s, "auth_failed", "ok", back, reason="")
    outbox.send_pending_flips(now=back + td(seconds=60))
    mails = smtp.to(manager)
    assert len(mails) == 1
    assert mails[0]["Subject"].strip() == "[Switchboard] Acme Support · tcn-main: 3 streams recovered"
    body = Inbox.text(mails[0])
    assert body.count("It was down 3 h 12 min, since 2026-03-02 06:00 America/Chicago (12:00 UTC).") == 3


def test_a_down_and_a_recovery_in_the_same_minute_are_not_one_mail(conn_a, streams, manager, smtp: Inbox):
    flip(conn_a, "agent_states", "failing", "ok", T0)
    flip(conn_a, "config", "ok", "failing", T0 + td(seconds=10))
    outbox.send_pending_flips(now=T0 + td(seconds=70))
    assert sorted(m["Subject"].strip() for m in smtp.to(manager)) == [
        "[Switchboard] Acme Support · tcn-main Agent states recovered",
        "[Switchboard] Acme Support · tcn-main Configuration is failing",
    ]


def test_a_flip_another_worker_holds_is_left_out_of_the_mail(conn_a, streams, manager, smtp: Inbox):
    flips = fail_all(conn_a, T0, step=td(0))
    outbox.decide(T0)
    HealthFlip.objects.filter(pk=flips[2].pk).update(claimed=T0 + td(seconds=59))  # mid-send elsewhere
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    body = Inbox.text(smtp.to(manager)[0])
    assert "2 streams down" in smtp.to(manager)[0]["Subject"]
    assert f"/health/{streams[2].pk}/" not in body
    held = HealthFlip.objects.get(pk=flips[2].pk)
    assert held.sent_at is None and held.claimed is not None


def test_a_deferred_group_is_retried_together(conn_a, streams, manager, settings, smtp: Inbox):
    flips = fail_all(conn_a, T0, step=td(0))
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nothing listens: a transient failure
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    for f in flips:
        f.refresh_from_db()
        assert f.sent_at is None and f.claimed is None and f.delivery == "retrying"
    settings.EMAIL_PORT = port
    outbox.send_pending_flips(now=flips[0].next_attempt_at + td(seconds=1))
    assert len(smtp.to(manager)) == 1 and "3 streams down" in smtp.to(manager)[0]["Subject"]
    assert set(HealthFlip.objects.values_list("delivery", flat=True)) == {"sent"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_draining_at_once_send_one_mail_per_connection(tenant_a, manager, smtp: Inbox):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite serialises every writer)")
    conns = [make_connection(tenant_a, "tcn", f"tcn-{i}") for i in range(4)]
    for conn in conns:
        for s in STREAMS:
            make_schedule(conn, s)
        fail_all(conn, T0, step=td(seconds=5))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                outbox.send_pending_flips(now=T0 + td(seconds=60))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    listed = [
        line for m in smtp.to(manager) for line in Inbox.text(m).splitlines() if "→ auth failed" in line
    ]
    # Every stream of every connection is in exactly one mail, and nothing is left unsent.
    assert len(listed) == 12
    assert len(smtp.to(manager)) >= 4
    assert not HealthFlip.objects.filter(sent_at=None).exists()


def test_a_flip_recorded_after_its_groups_mail_left_is_not_mailed_again(
    conn_a, streams, manager, smtp: Inbox
):
    carrier = flip(conn_a, "agent_states", "ok", "auth_failed", T0)
    flip(conn_a, "config", "ok", "auth_failed", T0 + td(seconds=20))
    assert outbox.send_pending_flips(now=T0 + td(seconds=60)) == 1
    # Another stream's pass records its flip later, dated inside the mailed group's minute.
    late = flip(conn_a, "volume", "ok", "auth_failed", T0 + td(seconds=40))
    assert outbox.send_pending_flips(now=T0 + td(seconds=70)) == 0
    assert outbox.send_pending_flips(now=T0 + td(seconds=200)) == 0
    assert len(smtp.to(manager)) == 1
    late.refresh_from_db()
    assert late.sent_at is not None and late.delivery == "sent" and late.delivered_to == [manager]
    assert late.error == f"mailed with flip {carrier.pk}"


def test_a_late_flip_after_the_window_of_a_mailed_group_gets_its_own_mail(
    conn_a, streams, manager, smtp: Inbox
):
    flip(conn_a, "agent_states", "ok", "failing", T0)
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    flip(conn_a, "volume", "ok", "failing", T0 + td(seconds=61))
    outbox.send_pending_flips(now=T0 + td(seconds=125))
    assert len(smtp.to(manager)) == 2

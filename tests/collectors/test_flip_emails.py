"""Each flip is mailed once, through a real SMTP server, to the people who should know."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
from django.utils import timezone

from collectors import outbox
from collectors.models import CollectionSchedule, HealthFlip
from integrations.models import Membership, Tenant
from notifications.models import EmailAddress, Subscriber, SubscriptionList
from tests.collectors.healthkit import T0, make_schedule
from tests.collectors.smtpkit import Inbox, smtp_fixture  # noqa: F401 (the `smtp` fixture)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def verify(user) -> None:
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified_at": timezone.now()}
    )


@pytest.fixture
def people(tenant_a, manager_a, owner_a, partner_a):
    verify(manager_a)
    verify(owner_a)
    verify(partner_a)  # partners are not told
    unverified = make_user("unverified_mgr")
    Membership.objects.create(user=unverified, tenant=tenant_a, role=Membership.MANAGER)
    ops = SubscriptionList.objects.create(tenant=tenant_a, name="ops")
    Subscriber.objects.create(list=ops, email="noc@example.net", confirmed_at=timezone.now())
    Subscriber.objects.create(list=ops, email="pending@example.net")  # never confirmed
    return {"manager": manager_a.email, "owner": owner_a.email, "subscriber": "noc@example.net"}


@pytest.fixture
def sched(conn_a):
    schedule = make_schedule(conn_a, "agent_states")
    CollectionSchedule.objects.filter(pk=schedule.pk).update(
        last_error="TransientError: 503 from https://api.example/?access_token=tcn-token-0123456789abcdef"
    )
    return schedule


def flip(conn, old, new, at, reason="", stream="agent_states") -> HealthFlip:
    return HealthFlip.objects.create(
        connection=conn, stream=stream, old_status=old, new_status=new, reason=reason, created=at
    )


def test_a_down_flip_reaches_managers_owners_and_confirmed_subscribers_only(
    conn_a, sched, people, smtp: Inbox
):
    f = flip(conn_a, "ok", "failing", T0, "3 consecutive failures")
    assert outbox.send_pending_flips(now=T0 + td(seconds=30)) == 0  # held for the connection's other streams
    assert outbox.send_pending_flips(now=T0 + td(seconds=60)) == 1
    assert sorted(m["To"] for m in smtp.messages) == sorted(people.values())
    msg = smtp.to(people["manager"])[0]
    assert msg["Subject"].strip() == "[Switchboard] Acme Support · tcn-main Agent states is failing"
    body = Inbox.text(msg)
    assert "3 consecutive failures" in body
    assert "Last error: TransientError: 503" in body
    assert "tcn-token-0123456789abcdef" not in body + Inbox.html(msg)
    assert f"/health/{sched.pk}/" in body
    # Only list members get one-click unsubscribe.
    assert msg["List-Unsubscribe"] is None
    assert smtp.to("noc@example.net")[0]["List-Unsubscribe"].strip().startswith("<http")
    f.refresh_from_db()
    assert f.processed == T0 + td(seconds=30) and f.delivery == "sent" and f.error == ""
    assert f.next_attempt_at == T0 + td(seconds=60)  # a minute after it happened


def test_a_flip_is_sent_once_however_often_the_outbox_runs(conn_a, sched, people, smtp: Inbox):
    flip(conn_a, "ok", "late", T0)
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    assert outbox.send_pending_flips(now=T0 + td(seconds=90)) == 0
    assert len(smtp.messages) == 3


def test_a_claimed_flip_cannot_be_claimed_again(conn_a):
    f = flip(conn_a, "ok", "late", T0)
    assert outbox.claim(f, T0) is True
    assert outbox.claim(f, T0 + td(seconds=1)) is False


def test_recovery_says_how_long_it_was_down(conn_a, sched, people, smtp: Inbox):
    flip(conn_a, "new", "ok", T0 - td(days=1))
    flip(conn_a, "ok", "late", T0)
    flip(conn_a, "late", "failing", T0 + td(minutes=30))
    outbox.send_pending_flips(now=T0 + td(minutes=31))
    smtp.messages.clear()
    flip(conn_a, "failing", "ok", T0 + td(hours=1, minutes=30))
    outbox.send_pending_flips(now=T0 + td(hours=1, minutes=31))
    msg = smtp.to(people["owner"])[0]
    assert msg["Subject"].strip() == "[Switchboard] Acme Support · tcn-main Agent states recovered"
    assert "It was down 1 h 30 min, since 2026-03-02 06:00 America/Chicago (12:00 UTC)." in Inbox.text(msg)
    assert "It was down <strong>1 h 30 min</strong>, since 2026-03-02 06:00 America/Chicago" in Inbox.html(
        msg
    )


def test_recovery_across_the_change_to_daylight_time_counts_elapsed_time(conn_a, sched, people, smtp: Inbox):
    # 2026-03-08 in Chicago: 02:00 CST becomes 03:00 CDT; 01:00 CST to 04:30 CDT is 2 h 30 min.
    down = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    flip(conn_a, "ok", "failing", down)
    outbox.send_pending_flips(now=down + td(minutes=1))
    smtp.messages.clear()
    flip(conn_a, "failing", "ok", down + td(hours=2, minutes=30))
    outbox.send_pending_flips(now=down + td(hours=2, minutes=31))
    body = Inbox.text(smtp.to(people["owner"])[0])
    assert "It was down 2 h 30 min, since 2026-03-08 01:00 America/Chicago (07:00 UTC)." in body
    assert "at 2026-03-08 09:30 UTC" in body


def test_recovery_in_a_utc_tenant_names_utc_once(conn_a, sched, people, smtp: Inbox):
    Tenant.objects.filter(pk=conn_a.tenant_id).update(time_zone="UTC")
    flip(conn_a, "ok", "late", T0)
    flip(conn_a, "late", "ok", T0 + td(hours=3, minutes=12))
    outbox.send_pending_flips(now=T0 + td(hours=3, minutes=13))
    bodies = [Inbox.text(m) for m in smtp.to(people["owner"])]
    assert any("It was down 3 h 12 min, since 2026-03-02 12:00 UTC." in b for b in bodies)


def test_a_first_success_is_not_mailed(conn_a, sched, people, smtp: Inbox):
    f = flip(conn_a, "new", "ok", T0)
    assert outbox.send_pending_flips(now=T0) == 0
    assert smtp.messages == []
    f.refresh_from_db()
    assert f.processed is not None and f.delivery == "not_notified"


def test_an_auto_pause_mail_says_how_to_resume(conn_a, sched, people, smtp: Inbox):
    flip(conn_a, "failing", "paused", T0, "paused automatically after 30 consecutive failures since …")
    outbox.send_pending_flips(now=T0)
    body = Inbox.text(smtp.to(people["manager"])[0])
    assert "Switchboard stopped trying" in body
    assert 'press "Resume"' in body
    assert "manage.py health --resume acme/tcn-main agent_states" in body


def test_flapping_is_summarised_in_one_mail_and_then_kept_quiet(conn_a, sched, people, smtp: Inbox, settings):
    settings.HEALTH_FLAP_THRESHOLD = 4
    statuses = ["ok", "late", "ok", "late", "ok", "late"]
    for i in range(5):
        flip(conn_a, statuses[i], statuses[i + 1], T0 + td(minutes=5 * i))
    assert outbox.send_pending_flips(now=T0 + td(minutes=21)) == 1
    assert len(smtp.to(people["manager"])) == 1
    msg = smtp.to(people["manager"])[0]
    assert "is flapping (5 changes in an hour)" in msg["Subject"]
    assert Inbox.text(msg).count(" → ") == 5
    assert set(HealthFlip.objects.values_list("delivery", flat=True)) == {"summarised"}
    # Still flapping: the next flip within the hour is recorded, not mailed.
    later = flip(conn_a, "late", "ok", T0 + td(minutes=30))
    assert outbox.send_pending_flips(now=T0 + td(minutes=31)) == 0
    later.refresh_from_db()
    assert later.delivery == "suppressed" and later.processed is not None
    assert len(smtp.messages) == 3


def test_nobody_verified_means_no_mail_and_a_note(conn_a, sched, smtp: Inbox):
    f = flip(conn_a, "ok", "late", T0)
    outbox.send_pending_flips(now=T0 + td(seconds=60))
    f.refresh_from_db()
    assert f.delivery == "no_recipients" and f.error == "nobody verified to tell"
    assert smtp.messages == []

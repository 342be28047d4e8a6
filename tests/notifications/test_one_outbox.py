"""Token reminders and health alerts go through the one outbox, by the same retry rules.

Each test runs once for a token reminder (`TokenAlert`) and once for a health alert
(`HealthFlip`), against a real SMTP server that defers the first tries with a 451.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import timedelta as td

import pytest
import time_machine
from django.utils import timezone

from collectors import outbox as health_outbox
from collectors.models import HealthFlip
from integrations.models import Membership
from notifications import events
from notifications.models import STREAM_DOWN, EmailAddress, EndpointNotice, MailRow
from notifications.webhooks import send_due
from tests.collectors.healthkit import make_schedule
from tests.collectors.smtpkit import Inbox, serving
from tests.conftest import make_user
from tests.notifications.conftest import make_endpoint
from tests.notifications.hookserver import Reply
from tokens.models import AccessToken, TokenAlert
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 5, 14, tzinfo=UTC)
PERSON = "on_call@example.com"


class DeferringInbox(Inbox):
    """Answers `451` to the first `defer` recipients it is offered, then accepts mail."""

    def __init__(self) -> None:
        super().__init__()
        self.defer = 0
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 no such user"
        if self.defer:
            self.defer -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(settings) -> Iterator[DeferringInbox]:
    with serving(settings, DeferringInbox()) as inbox:
        yield inbox


@pytest.fixture
def on_call(tenant_a):
    """The one verified person of tenant A: a manager who owns the token."""
    user = make_user("on_call")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.MANAGER)
    EmailAddress.objects.filter(user=user).update(verified_at=timezone.now())
    return user


@dataclass
class Producer:
    make: Callable[[], MailRow]
    send: Callable[[], int]
    decide: Callable[[datetime], object] = lambda now: None  # what is said is settled before sending


def token_reminder(conn, owner) -> Producer:
    def make() -> MailRow:
        AccessToken.objects.create(
            connection=conn, owner=owner, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
        )
        run_pass(today=date(2026, 6, 5))
        return TokenAlert.objects.get()

    return Producer(make, send_pending_alerts)


def health_alert(conn, owner) -> Producer:
    def make() -> MailRow:
        make_schedule(conn, "agent_states")
        return HealthFlip.objects.create(
            connection=conn, stream="agent_states", old_status="ok", new_status="failing", created=NOW
        )

    return Producer(make, health_outbox.send_pending_flips, health_outbox.decide)


@pytest.fixture(params=[token_reminder, health_alert], ids=["token reminder", "health alert"])
def producer(request, conn_a, on_call, settings) -> Producer:
    # The rules are under test here: a health alert is due at once, not held for its group
    # (tests/collectors/test_flip_groups.py).
    settings.HEALTH_GROUP_SECONDS = 0
    return request.param(conn_a, on_call)


def tick(producer: Producer, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        producer.send()


def test_a_deferred_message_is_sent_on_a_later_tick_after_the_backoff(producer, smtp):
    row = producer.make()
    smtp.defer = 1
    tick(producer, NOW)
    row.refresh_from_db()
    assert row.sent_at is None and row.status == "retrying" and row.attempts == 1
    assert row.claimed is None and "451" in row.error
    assert row.next_attempt_at == NOW + td(seconds=60)
    tick(producer, NOW + td(seconds=30))  # too early: not tried
    row.refresh_from_db()
    assert row.attempts == 1 and smtp.messages == []
    tick(producer, NOW + td(seconds=61))
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2 and row.delivered_to == [PERSON]
    assert [m["To"] for m in smtp.messages] == [PERSON]
    tick(producer, NOW + td(hours=1))  # sent once, however often the outbox runs
    assert len(smtp.messages) == 1


def test_a_message_deferred_every_time_is_given_up_after_the_max_attempts(producer, smtp, settings):
    settings.NOTIFY_MAIL_MAX_ATTEMPTS = 3
    row = producer.make()
    smtp.defer = 100
    moment, delays = NOW, []
    for _ in range(3):
        tick(producer, moment)
        row.refresh_from_db()
        if row.sent_at is None:
            delays.append((row.next_attempt_at - moment).total_seconds())
            moment = row.next_attempt_at
    assert delays == [60, 120]
    assert row.status == "failed" and row.attempts == 3 and "gave up after 3 attempts" in row.error
    tick(producer, moment + td(days=1))
    row.refresh_from_db()
    assert row.attempts == 3 and smtp.messages == []


def test_a_refused_recipient_is_given_up_at_once(producer, smtp):
    row = producer.make()
    smtp.refuse = True
    tick(producer, NOW)
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 1 and "550" in row.error
    assert "gave up" not in row.error and row.next_attempt_at in (None, NOW)


def test_a_claim_left_by_a_dead_worker_is_released_after_the_claim_timeout(producer, smtp, settings):
    settings.NOTIFY_CLAIM_TIMEOUT = 900
    row = producer.make()
    producer.decide(NOW)
    # A worker claimed it ten minutes ago and died before recording anything.
    type(row).objects.filter(pk=row.pk).update(claimed=NOW - td(minutes=10))
    tick(producer, NOW)
    row.refresh_from_db()
    assert row.sent_at is None and row.claimed == NOW - td(minutes=10)  # still someone's
    tick(producer, NOW + td(minutes=6))
    row.refresh_from_db()
    assert row.status == "sent" and row.delivered_to == [PERSON]


def test_the_mail_about_a_disabled_endpoint_is_retried_by_the_same_rules(
    hooks, smtp, tenant_a, conn_a, on_call, settings
):
    settings.WEBHOOKS_MAX_ATTEMPTS = settings.WEBHOOKS_DISABLE_AFTER = 1
    make_endpoint(tenant_a, hooks.url())
    hooks.default = Reply(500)
    smtp.defer = 1
    with time_machine.travel(NOW, tick=False):
        data = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}
        events.publish(tenant_a, STREAM_DOWN, data, conn_a, key="flip:1")
        assert send_due() == {"failed": 1}
    notice = EndpointNotice.objects.get()
    assert (
        notice.status == "retrying" and notice.next_attempt_at == NOW + td(seconds=60) and smtp.messages == []
    )
    with time_machine.travel(NOW + td(seconds=61), tick=False):
        send_due()
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.delivered_to == [PERSON]
    assert [m["Subject"].strip() for m in smtp.messages] == [
        "[Switchboard] Acme Support · notification endpoint ops was disabled"
    ]

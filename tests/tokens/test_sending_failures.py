"""Transient failures are retried with growing delays; permanent ones are recorded."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime
from datetime import timedelta as td

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend

from tokens.models import AccessToken, TokenAlert
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass

FAILURES: list[Exception] = []
SENT: list[object] = []


class FlakyBackend(BaseEmailBackend):
    def send_messages(self, messages):
        if FAILURES:
            raise FAILURES.pop(0)
        SENT.extend(messages)
        return len(messages)


@pytest.fixture
def alert(conn_a, token_owner, settings):
    settings.EMAIL_BACKEND = "tests.tokens.test_sending_failures.FlakyBackend"
    FAILURES.clear()
    SENT.clear()
    AccessToken.objects.create(
        connection=conn_a, owner=token_owner, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
    )
    run_pass(today=date(2026, 6, 5))
    # Only the owner's stage: no digest recipients exist in tenant A.
    return TokenAlert.objects.get()


NOW = datetime(2026, 6, 5, 14, tzinfo=UTC)


def test_a_transient_failure_is_retried_after_a_delay(alert):
    FAILURES.append(smtplib.SMTPResponseException(451, b"try again later"))
    with time_machine.travel(NOW, tick=False):
        send_pending_alerts()
    alert.refresh_from_db()
    assert alert.sent_at is None and alert.attempts == 1 and "451" in alert.error
    assert alert.next_attempt_at == NOW + td(seconds=60)
    with time_machine.travel(NOW + td(seconds=30), tick=False):
        send_pending_alerts()  # too early
    assert SENT == []
    with time_machine.travel(NOW + td(seconds=61), tick=False):
        send_pending_alerts()
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.delivered_to == ["tok_owner@example.com"] and len(SENT) == 1


def test_the_delay_doubles_and_gives_up_after_the_last_attempt(alert, settings):
    settings.TOKENS_MAIL_MAX_ATTEMPTS = 3
    FAILURES.extend(ConnectionRefusedError("refused") for _ in range(3))
    moment = NOW
    delays = []
    for _ in range(3):
        with time_machine.travel(moment, tick=False):
            send_pending_alerts()
        alert.refresh_from_db()
        if alert.next_attempt_at and alert.sent_at is None:
            delays.append((alert.next_attempt_at - moment).total_seconds())
            moment = alert.next_attempt_at
    assert delays == [60, 120]
    assert alert.failed and alert.status == "failed" and "gave up after 3 attempts" in alert.error


def test_a_permanent_failure_is_recorded_with_the_reason(alert):
    FAILURES.append(smtplib.SMTPRecipientsRefused({"tok_owner@example.com": (550, b"no such user")}))
    send_pending_alerts()
    alert.refresh_from_db()
    assert alert.failed and alert.attempts == 1 and "550 no such user" in alert.error
    send_pending_alerts()
    assert SENT == []

"""Two passes (and two senders) at the same moment never send a reminder twice."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core import mail
from django.db import connection, connections

from integrations.models import Membership
from tests.conftest import make_connection, make_user
from tests.tokens.conftest import verify
from tokens.models import AccessToken, TokenAlert, TokenDigest
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite serialises every writer)")


def test_two_concurrent_passes_send_each_reminder_once(tenant_a):
    owner = make_user("acct_owner")
    Membership.objects.create(user=owner, tenant=tenant_a, role=Membership.OWNER)
    verify(owner)
    for i in range(20):
        conn = make_connection(tenant_a, "tcn", f"c{i}")
        user = make_user(f"u{i}")
        Membership.objects.create(user=user, tenant=tenant_a, role=Membership.MANAGER)
        verify(user)
        AccessToken.objects.create(
            connection=conn, owner=user, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
        )
    mail.outbox = []
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(do_pass: bool) -> None:
        try:
            barrier.wait()
            if do_pass:
                run_pass(today=date(2026, 6, 5))
            for _ in range(3):
                send_pending_alerts()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i < 2,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    send_pending_alerts()
    assert TokenAlert.objects.count() == 20 and TokenDigest.objects.count() == 1
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([f"u{i}@example.com" for i in range(20)] + ["acct_owner@example.com"])
    assert TokenDigest.objects.get().alerts.count() == 20

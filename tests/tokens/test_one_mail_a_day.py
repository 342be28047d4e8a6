"""A token owner who is also an account owner gets one mail a day for the token: the digest."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from integrations.models import Membership
from tests.conftest import make_connection, make_user
from tests.tokens.conftest import verify
from tokens.admin import alert_status
from tokens.models import AccessToken, TokenAlert, TokenDigest
from tokens.outbox import FOLDED, send_pending_alerts
from tokens.reminders import run_pass

CHICAGO = ZoneInfo("America/Chicago")


def morning(day: int) -> datetime:
    return datetime(2026, 6, day, 9, 0, tzinfo=CHICAGO)


def run_day(day: int) -> None:
    """The hourly pass at 09:00 local, then the outbox tick a second later."""
    with time_machine.travel(morning(day), tick=False):
        run_pass()
    with time_machine.travel(morning(day).replace(second=1), tick=False):
        send_pending_alerts()


def test_an_account_owner_who_owns_a_token_gets_only_the_digest_each_day(tenant_a, conn_a, outbox):
    both = make_user("owner_and_holder")
    Membership.objects.create(user=both, tenant=tenant_a, role=Membership.OWNER)
    verify(both)
    mine = AccessToken.objects.create(
        connection=conn_a,
        service_login="3rd_WFM_Acme_mine",
        owner=both,
        issued=date(2025, 6, 15),
        expires=date(2026, 6, 15),
    )
    for day in (5, 6, 7):
        run_day(day)
    to_them = [m for m in outbox if m.to == ["owner_and_holder@example.com"]]
    assert len(to_them) == len(outbox) == 3  # one a day, and nobody else is told
    assert all("need" in m.subject and "renewing" in m.subject for m in to_them)
    assert [m.subject[-10:] for m in to_them] == ["2026-06-05", "2026-06-06", "2026-06-07"]
    for left, mail in zip((10, 9, 8), to_them, strict=True):
        assert f"{left} days left" in mail.body
        assert "3rd_WFM_Acme_mine" in mail.body
        assert "This line is the token owner's reminder for today" in mail.body
        assert "the token owner's reminder for today" in mail.alternatives[0][0]
    # Each day's stage is still recorded, and each is in that day's digest.
    alerts = TokenAlert.objects.filter(token=mine).order_by("day")
    assert [a.days_left for a in alerts] == [10, 9, 8]
    assert all(a.error == FOLDED and a.delivered_to == [] for a in alerts)
    assert {alert_status(a) for a in alerts} == {"in the digest"}  # as the admin shows it
    assert [a.digest.day for a in alerts] == [date(2026, 6, d) for d in (5, 6, 7)]


def test_another_owners_token_still_gets_its_reminder_and_the_digest_line_has_no_fold_note(
    tenant_a, conn_a, token_owner, outbox
):
    account_owner = make_user("acct_owner")
    Membership.objects.create(user=account_owner, tenant=tenant_a, role=Membership.OWNER)
    verify(account_owner)
    AccessToken.objects.create(
        connection=conn_a, owner=token_owner, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
    )
    for day in (5, 6):
        run_day(day)
    by_day = [(m.to[0], m.subject) for m in outbox]
    assert [to for to, _ in by_day] == ["tok_owner@example.com", "acct_owner@example.com"] * 2
    reminder, digest = outbox[0], outbox[1]
    assert "expires in 10 days" in reminder.subject
    assert "10 days left" in digest.body
    assert "token owner's reminder" not in digest.body


def test_a_token_added_after_the_days_digest_went_out_gets_its_own_reminder(tenant_a, conn_a, outbox):
    both = make_user("owner_and_holder")
    Membership.objects.create(user=both, tenant=tenant_a, role=Membership.OWNER)
    verify(both)
    AccessToken.objects.create(
        connection=conn_a, owner=both, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
    )
    run_day(5)
    assert len(outbox) == 1 and TokenDigest.objects.get().status == "sent"
    late = AccessToken.objects.create(
        connection=make_connection(tenant_a, "tcn", "tcn-late"),
        owner=both,
        service_login="3rd_WFM_Acme_late",
        issued=date(2025, 6, 10),
        expires=date(2026, 6, 10),
    )
    with time_machine.travel(datetime(2026, 6, 5, 15, 0, tzinfo=CHICAGO), tick=False):
        run_pass()
        send_pending_alerts()
    assert len(outbox) == 2
    assert outbox[1].to == ["owner_and_holder@example.com"] and "expires in 5 days" in outbox[1].subject
    assert TokenAlert.objects.get(token=late).delivered_to == ["owner_and_holder@example.com"]

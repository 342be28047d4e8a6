"""Who hears: the token owner per stage, owners one digest a day, managers when nobody else can."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from integrations.models import Membership
from notifications.models import Subscriber, SubscriptionList
from tests.conftest import make_user
from tests.tokens.conftest import verify
from tokens.models import AccessToken, TokenAlert, TokenDigest
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass


@pytest.fixture
def owner(tenant_a):
    user = make_user("acct_owner")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.OWNER)
    verify(user)
    return user


def two_tokens(conn_a, token_owner):
    from tests.conftest import make_connection

    other = make_connection(conn_a.tenant, "tcn", "tcn-second")
    a = AccessToken.objects.create(
        connection=conn_a,
        service_login="3rd_WFM_Acme_a",
        owner=token_owner,
        issued=date(2025, 6, 15),
        expires=date(2026, 6, 15),
    )
    b = AccessToken.objects.create(
        connection=other, service_login="3rd_WFM_Acme_b", issued=date(2025, 6, 12), expires=date(2026, 6, 12)
    )
    return a, b


def test_token_owner_gets_the_stage_and_each_owner_one_digest(conn_a, token_owner, owner, outbox):
    two_tokens(conn_a, token_owner)
    run_pass(today=date(2026, 6, 5))
    assert send_pending_alerts() == 2
    by_to = {m.to[0]: m for m in outbox}
    assert set(by_to) == {"tok_owner@example.com", "acct_owner@example.com"}
    alert_mail = by_to["tok_owner@example.com"]
    assert "expires in 10 days" in alert_mail.subject
    digest = by_to["acct_owner@example.com"]
    assert "2 access tokens" in digest.subject
    assert "acme/tcn-main" in digest.body and "acme/tcn-second" in digest.body
    assert TokenDigest.objects.get().alerts.count() == 2
    # The same day again: nothing more.
    run_pass(today=date(2026, 6, 5))
    assert send_pending_alerts() == 0 and len(outbox) == 2
    # Next day: one new digest, one new owner stage.
    run_pass(today=date(2026, 6, 6))
    send_pending_alerts()
    assert len(outbox) == 4 and TokenDigest.objects.count() == 2


def test_unverified_addresses_get_nothing(conn_a, manager_a, tenant_a, outbox):
    unverified_owner = make_user("quiet_owner")
    Membership.objects.create(user=unverified_owner, tenant=tenant_a, role=Membership.OWNER)
    AccessToken.objects.create(
        connection=conn_a, owner=manager_a, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
    )
    run_pass(today=date(2026, 6, 5))
    send_pending_alerts()
    alert = TokenAlert.objects.get()
    assert alert.unattended and alert.status == "nobody to tell"
    assert "quiet_owner@example.com" not in [m.to[0] for m in outbox]


def test_managers_get_the_digest_when_nobody_verified_would_hear(conn_a, manager_a, outbox):
    verify(manager_a)
    nobody = make_user("unverified_owner")
    AccessToken.objects.create(
        connection=conn_a, owner=nobody, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
    )
    run_pass(today=date(2026, 6, 5))
    send_pending_alerts()
    assert [m.to for m in outbox] == [["manager_a@example.com"]]
    assert "nobody with a verified email address" in outbox[0].body
    assert TokenAlert.objects.get().unattended


def test_managers_do_not_get_the_digest_when_an_owner_hears(conn_a, manager_a, owner, outbox):
    verify(manager_a)
    AccessToken.objects.create(connection=conn_a, issued=date(2025, 6, 15), expires=date(2026, 6, 15))
    run_pass(today=date(2026, 6, 5))
    send_pending_alerts()
    assert [m.to for m in outbox] == [["acct_owner@example.com"]]


def test_an_address_shared_by_two_members_of_a_tenant_is_not_used(conn_a, owner, tenant_a, outbox):
    twin = make_user("twin")
    twin.email = owner.email
    twin.save()
    Membership.objects.create(user=twin, tenant=tenant_a, role=Membership.OWNER)
    AccessToken.objects.create(connection=conn_a, issued=date(2025, 6, 15), expires=date(2026, 6, 15))
    run_pass(today=date(2026, 6, 5))
    send_pending_alerts()
    assert outbox == []


def test_confirmed_list_members_get_the_digest_with_one_click_unsubscribe(conn_a, outbox):
    lst = SubscriptionList.objects.create(tenant=conn_a.tenant, name="ops")
    Subscriber.objects.create(list=lst, email="ops-lead@example.org", confirmed_at=timezone.now())
    Subscriber.objects.create(list=lst, email="pending@example.org")
    Subscriber.objects.create(
        list=lst, email="left@example.org", confirmed_at=timezone.now(), unsubscribed_at=timezone.now()
    )
    AccessToken.objects.create(connection=conn_a, issued=date(2025, 6, 15), expires=date(2026, 6, 15))
    run_pass(today=date(2026, 6, 5))
    send_pending_alerts()
    assert [m.to for m in outbox] == [["ops-lead@example.org"]]
    headers = outbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith(f"<http://127.0.0.1:8000/lists/{lst.pk}/unsubscribe/")


def test_expired_mail_says_collection_has_stopped(conn_a, token_owner, outbox):
    AccessToken.objects.create(
        connection=conn_a,
        owner=token_owner,
        service_login="3rd_WFM_Acme_x",
        issued=date(2025, 6, 15),
        expires=date(2026, 6, 15),
    )
    run_pass(today=date(2026, 6, 18))
    send_pending_alerts()
    (mail,) = outbox
    assert mail.subject.startswith("Expired:")
    assert "Data collection for this connection has stopped" in mail.body
    html = mail.alternatives[0][0]
    assert "collection for this connection has stopped" in html
    for text in (mail.body, html):
        assert "3rd_WFM_Acme_x" in text and "2026-06-15" in text and "acme/tcn-main" in text
        assert (
            "Organization &gt; Users &gt; User Manager" in text
            or "Organization > Users > User Manager" in text
        )
        assert "/admin/tokens/accesstoken/" in text

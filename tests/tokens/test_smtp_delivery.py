"""Reminders through a real SMTP server: headers, the text part and the HTML part."""

from __future__ import annotations

import email
import socket
from datetime import date
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from notifications.models import Subscriber, SubscriptionList
from tokens.models import AccessToken
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_alerts_and_digests_arrive_with_both_parts_and_list_headers(smtp, conn_a, token_owner):
    lst = SubscriptionList.objects.create(tenant=conn_a.tenant, name="ops")
    Subscriber.objects.create(list=lst, email="lead@example.org", confirmed_at=timezone.now())
    AccessToken.objects.create(
        connection=conn_a,
        owner=token_owner,
        service_login="3rd_WFM_Acme_jdoe",
        issued=date(2025, 6, 15),
        expires=date(2026, 6, 15),
    )
    run_pass(today=date(2026, 5, 25))  # w3
    assert send_pending_alerts() == 2
    by_rcpt = {rcpts[0]: msg for rcpts, msg in smtp.messages}
    assert set(by_rcpt) == {"tok_owner@example.com", "lead@example.org"}

    alert = by_rcpt["tok_owner@example.com"]
    assert alert["Subject"] == "TCN access token of acme/tcn-main expires in 21 days (2026-06-15)"
    assert alert["Auto-Submitted"] == "auto-generated"
    assert alert["List-Unsubscribe"] is None  # a personal reminder, not a list
    text = alert.get_body(("plain",)).get_content()
    html = alert.get_body(("html",)).get_content()
    for part in (text, html):
        assert "3rd_WFM_Acme_jdoe" in part and "2026-06-15" in part and "21" in part
        assert "TCN" in part and "acme/tcn-main" in part
        assert f"http://127.0.0.1:8000/admin/tokens/accesstoken/{AccessToken.objects.get().pk}/renew/" in part
    assert "Organization > Users > User Manager" in text
    assert "<strong>Organization &gt; Users &gt; User Manager</strong>" in html

    digest = by_rcpt["lead@example.org"]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(digest["List-Unsubscribe"]).strip().strip("<>")  # long values arrive folded
    assert url.startswith(f"http://127.0.0.1:8000/lists/{lst.pk}/unsubscribe/")
    assert url in digest.get_body(("plain",)).get_content()
    assert "Leave the list" in digest.get_body(("html",)).get_content()


def test_a_server_refusing_the_recipient_is_recorded_as_permanent(smtp, conn_a, token_owner):
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 mailbox unavailable"

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from django.conf import settings

        settings.EMAIL_PORT = port
        AccessToken.objects.create(
            connection=conn_a, owner=token_owner, issued=date(2025, 6, 15), expires=date(2026, 6, 15)
        )
        run_pass(today=date(2026, 6, 1))
        send_pending_alerts()
    finally:
        controller.stop()
    from tokens.models import TokenAlert

    alert = TokenAlert.objects.get()
    assert alert.failed and "550" in alert.error and "mailbox unavailable" in alert.error

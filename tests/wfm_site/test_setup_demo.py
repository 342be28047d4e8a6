from __future__ import annotations

import json
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from integrations.models import Membership, Tenant, VendorConnection
from tokens.models import AccessToken


@pytest.fixture(autouse=True)
def sandbox_allowed(settings):
    # `make run` has DEBUG on, which allows loopback; the tests run with DEBUG off.
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]


def run_demo() -> dict:
    out = StringIO()
    call_command("setup_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_it_creates_one_connection_per_vendor_aimed_at_the_sandbox():
    result = run_demo()
    conns = VendorConnection.objects.filter(tenant__slug="demo")
    assert sorted(conns.values_list("vendor", flat=True)) == ["8x8", "nextiva", "tcn", "thrio"]
    for conn in conns:
        assert conn.realtime_base_url.startswith("http://127.0.0.1:8765/")
        conn.full_clean()  # every required credential is present
    assert sorted(result["connections"]) == sorted(c.key for c in conns)


@pytest.mark.django_db
def test_it_refuses_to_aim_at_the_sandbox_when_the_egress_policy_does_not_allow_loopback(settings):
    settings.VENDOR_EGRESS_ALLOW = []
    settings.DEBUG = False
    refused = r"cannot aim the demo at the sandbox.*VENDOR_EGRESS_ALLOW.*DEBUG=true"
    with pytest.raises(CommandError, match=refused):
        run_demo()
    assert not VendorConnection.objects.exists()


@pytest.mark.django_db
def test_debug_allows_the_sandbox_on_loopback(settings):
    settings.VENDOR_EGRESS_ALLOW = []
    settings.DEBUG = True
    run_demo()
    assert VendorConnection.objects.filter(tenant__slug="demo").count() == 4


@pytest.mark.django_db
def test_it_is_idempotent():
    run_demo()
    counts = (
        Tenant.objects.count(),
        VendorConnection.objects.count(),
        Membership.objects.count(),
        AccessToken.objects.count(),
    )
    run_demo()
    assert counts == (
        Tenant.objects.count(),
        VendorConnection.objects.count(),
        Membership.objects.count(),
        AccessToken.objects.count(),
    )


@pytest.mark.django_db
def test_the_printed_logins_work():
    result = run_demo()
    for login in result["logins"]:
        assert authenticate(username=login["username"], password=login["password"]) is not None


@pytest.mark.django_db
def test_the_demo_token_expires_in_twelve_days():
    with time_machine.travel("2026-11-22 15:00:00Z", tick=False):
        result = run_demo()
    assert result["token_expires"] == "2026-12-04"


@pytest.mark.django_db
def test_it_sends_the_demo_tokens_reminders_once(mailoutbox):
    with time_machine.travel("2026-11-22 15:00:00Z", tick=False):
        result = run_demo()
        assert result["reminders"] >= 1
        # The demo owner owns the token and is the account owner: the reminder is the digest's line.
        texts = [m.subject + m.body for m in mailoutbox]
        assert any("12 days" in t and "tcn-demo" in t for t in texts), texts
        recipients = {r for m in mailoutbox for r in m.to}
        assert "owner@demo.example" in recipients
        sent = len(mailoutbox)
        run_demo()  # the same day: the stage was sent already
    assert len(mailoutbox) == sent


@pytest.mark.django_db
def test_it_names_the_mail_folder_emails_are_really_written_to(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "elsewhere" / "mail")
    out = StringIO()
    call_command("setup_demo", stdout=out)
    assert f"(see {tmp_path / 'elsewhere' / 'mail'})" in out.getvalue()
    assert "var/mail/" not in out.getvalue()
    assert run_demo()["mail_folder"] == str(tmp_path / "elsewhere" / "mail")


@pytest.mark.django_db
def test_without_a_mail_folder_it_says_the_reminders_went_to_the_mail_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    call_command("setup_demo", stdout=out)
    assert "(sent through the mail server)" in out.getvalue()
    assert run_demo()["mail_folder"] is None

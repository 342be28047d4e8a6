"""A TCN connection without a token record: "token expiry unknown" everywhere, one mail."""

from __future__ import annotations

import json
import threading
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.models import Membership
from tests.collectors.healthkit import make_schedule
from tests.conftest import make_connection, make_user
from tests.tokens.conftest import verify
from tokens.models import AccessToken, UnknownExpiryNotice, record_token
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass, write_unknown_expiry_notices

UNKNOWN = "token expiry unknown"


@pytest.fixture
def owner(tenant_a):
    user = make_user("acct_owner")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.OWNER)
    verify(user)
    return user


def health_json() -> list[dict]:
    out = StringIO()
    call_command("health", "--json", stdout=out)
    return json.loads(out.getvalue())["streams"]


@pytest.mark.django_db
def test_health_json_and_page_say_the_expiry_is_unknown_on_the_streams_using_the_token(
    client, manager_a, conn_a
):
    for stream in ("agent_states", "file_drop"):
        make_schedule(conn_a, stream)
    rows = {r["stream"]: r for r in health_json()}  # keyed by the command-line spelling
    assert rows["agent-states"]["token_expiry_unknown"] is True
    assert rows["agent-states"]["token_warning"] == UNKNOWN
    assert rows["file-drop"]["token_expiry_unknown"] is False  # files use no token
    client.force_login(manager_a)
    assert UNKNOWN in client.get("/health/").content.decode()


@pytest.mark.django_db
def test_recording_the_token_ends_the_unknown_state(conn_a):
    make_schedule(conn_a, "agent_states")
    record_token(conn_a, issued=date(2026, 1, 15))
    row = {r["stream"]: r for r in health_json()}["agent-states"]
    assert row["token_expiry_unknown"] is False and row["token_warning"] != UNKNOWN


@pytest.mark.django_db
def test_a_vendor_without_an_expiring_token_is_never_unknown(tenant_a):
    make_schedule(make_connection(tenant_a, "8x8", "eight"), "agent_states")
    rows = health_json()
    assert rows and not any(r["token_expiry_unknown"] or r["token_warning"] for r in rows)


@pytest.mark.django_db
def test_the_widget_lists_the_connection_with_a_link_to_record_the_token(client, manager_a, conn_a):
    client.force_login(manager_a)
    page = client.get("/admin/").content.decode()
    assert f"{conn_a.key}</a>: {UNKNOWN}" in page
    assert f"/admin/tokens/accesstoken/add/?connection={conn_a.pk}&amp;section=realtime" in page


@pytest.mark.django_db
def test_the_account_owner_is_mailed_once_to_record_it(conn_a, owner, outbox):
    run_pass(today=date(2026, 6, 5))
    run_pass(today=date(2026, 6, 6))
    assert UnknownExpiryNotice.objects.filter(connection=conn_a).count() == 1
    assert send_pending_alerts() == 1
    assert send_pending_alerts() == 0
    (message,) = outbox
    assert message.to == [owner.email]
    assert "Record the expiry" in message.subject and conn_a.key in message.subject
    assert f"/admin/tokens/accesstoken/add/?connection={conn_a.pk}" in message.body
    assert "tcn-token" not in message.body  # never the value


@pytest.mark.django_db
def test_a_token_recorded_before_the_mail_goes_out_cancels_it(conn_a, owner, outbox):
    write_unknown_expiry_notices(timezone.now())
    AccessToken.objects.create(connection=conn_a, issued=date(2026, 1, 15))
    assert send_pending_alerts() == 0
    assert outbox == []
    assert UnknownExpiryNotice.objects.get().sent_at is not None


@pytest.mark.django_db
def test_a_connection_with_its_token_gets_no_notice(conn_a, owner):
    record_token(conn_a, issued=date(2026, 1, 15))
    run_pass(today=date(2026, 6, 5))
    assert not UnknownExpiryNotice.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_passes_at_once_write_one_notice(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    barrier = threading.Barrier(2)

    def one_pass() -> None:
        from django.db import connection as thread_db

        barrier.wait()
        write_unknown_expiry_notices(timezone.now())
        thread_db.close()

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert UnknownExpiryNotice.objects.filter(connection=conn).count() == 1

"""A token warning stands beside the streams that use the token, not beside a file drop."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

import pytest
import time_machine

from collectors import board
from tests.collectors.healthkit import T0
from tests.conftest import make_connection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db
WARNING = "token expires in 10 days (2026-03-12)"


@pytest.fixture
def expiring(conn_a) -> AccessToken:
    return AccessToken.objects.create(
        connection=conn_a, section="realtime", issued=date(2025, 3, 12), expires=date(2026, 3, 12)
    )


def warnings_by_stream(conn) -> dict[str, str]:
    return {row.schedule.stream: row.token_warning for row in board.build([conn], for_display=False)}


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_the_file_drop_row_does_not_warn_about_a_token_it_does_not_use(conn_a, expiring):
    rows = warnings_by_stream(conn_a)
    assert rows["file_drop"] == ""
    # The streams that speak with the real-time token still carry the warning.
    assert rows["agent_states"] == WARNING and rows["config"] == WARNING


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_the_health_page_shows_the_warning_once_per_token_using_stream(client, manager_a, conn_a, expiring):
    client.force_login(manager_a)
    page = client.get("/health/").content.decode()
    users = [s for s, w in warnings_by_stream(conn_a).items() if w]
    assert page.count(WARNING) == len(users) and "file_drop" not in users


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_a_history_token_warns_only_the_stream_that_uses_it(tenant_a):
    eight = make_connection(tenant_a, "8x8", "eight-a")
    eight.set_values("history", {"token": "8x8-history-0123456789abcdef"})
    eight.save()
    AccessToken.objects.create(
        connection=eight, section="history", issued=date(2025, 3, 12), expires=date(2026, 3, 12)
    )
    rows = warnings_by_stream(eight)
    assert rows["volume"] == WARNING
    assert rows["agent_states"] == "" and rows["config"] == ""

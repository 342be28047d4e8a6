"""A new connection's backfill in a real browser: its progress on the health page, beside
the volume stream, as the people of its tenant see it (and nobody else)."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from collectors.models import Cursor
from collectors.windows import floor_interval
from tests.conftest import PASSWORD, make_connection
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def backfilling(tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight", tenant="demo", token="sandbox-8x8-token")
    conn.backfill_days = 365
    conn.save()
    now = timezone.now()
    origin = floor_interval(now) - td(days=365)
    # 120 of 365 days collected in the hour since the backfill started.
    Cursor.objects.create(
        connection=conn,
        stream="volume",
        position=origin + td(days=120),
        backfill_from=origin,
        backfill_started=now - td(hours=1),
    )
    Cursor.objects.filter(connection=conn).update(updated=now)
    return conn


def test_the_health_page_shows_days_backfilled_and_the_time_left(
    page, live_server, manager_a, backfilling, screenshots
):
    log_in(page, live_server, "manager_a", PASSWORD)
    page.goto(f"{live_server.url}/health/")
    cell = 'tr[data-connection="acme/eight"][data-stream="volume"] .hb-backfill'
    assert page.locator(cell).inner_text().strip() == "backfilled 120 of 365 days, about 2 h left"
    assert page.get_attribute(f"{cell} progress", "value") == "32"
    # Only the stream that backfills shows it.
    assert page.locator('tr[data-stream="config"] .hb-backfill').count() == 0
    page.screenshot(path=str(screenshots / "backfill-progress.png"), full_page=True)


def test_another_tenants_manager_sees_no_backfill_of_it(page, live_server, manager_b, backfilling):
    log_in(page, live_server, "manager_b", PASSWORD)
    page.goto(f"{live_server.url}/health/")
    assert page.locator(".hb-backfill").count() == 0
    assert "acme/eight" not in page.content()

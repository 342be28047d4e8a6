"""In a real browser: the admin shows times in the tenant's zone with the zone named, the
connection list shows health and token expiry, and the stream page's buttons sit in a row."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from collectors.models import CollectionRun, CollectionSchedule
from tests.conftest import PASSWORD, make_connection
from tests.e2e.conftest import log_in
from tokens.models import AccessToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WINTER = datetime(2026, 11, 30, 16, 15, tzinfo=UTC)


@pytest.fixture
def tcn(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main", drop_folder="acme")
    AccessToken.objects.filter(connection=conn).delete()
    AccessToken.objects.create(connection=conn, issued=date(2026, 1, 10), expires=date(2027, 1, 10))
    CollectionRun.objects.create(connection=conn, stream="config", started_at=WINTER, status="ok")
    CollectionSchedule.objects.filter(connection=conn, stream="config").update(last_success_at=WINTER)
    return conn


def test_a_manager_reads_every_time_in_the_tenants_zone(page, live_server, manager_a, tcn, screenshots):
    log_in(page, live_server, "manager_a", PASSWORD)
    page.goto(f"{live_server.url}/admin/collectors/collectionrun/")
    cell = page.locator("td.field-started_at, th.field-started_at").first
    assert " ".join(cell.inner_text().split()) == "2026-11-30 10:15 CST (America/Chicago)"
    # The time itself never breaks across lines; the zone may go below it.
    assert cell.locator(".local-time").evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"

    schedule = CollectionSchedule.objects.get(connection=tcn, stream="config")
    page.goto(f"{live_server.url}/admin/collectors/collectionschedule/{schedule.pk}/change/")
    assert "2026-11-30 10:15 CST (America/Chicago)" in page.locator("div.field-last_success_at").inner_text()

    page.goto(f"{live_server.url}/health/{schedule.pk}/")
    assert "2026-11-30 10:15:00 CST (America/Chicago)" in page.locator("table.hb-grid").first.inner_text()
    page.screenshot(path=str(screenshots / "stream-page.png"), full_page=True)


def test_the_connection_list_shows_health_and_token_expiry(page, live_server, manager_a, tcn, screenshots):
    log_in(page, live_server, "manager_a", PASSWORD)
    page.goto(f"{live_server.url}/admin/integrations/vendorconnection/")
    row = page.locator("#result_list tbody tr").first
    assert "2027-01-10" in row.locator("td.field-token_expires").inner_text()
    assert row.locator("td.field-connection_health a.conn-health").count() == 1
    page.screenshot(path=str(screenshots / "connection-list.png"), full_page=True)
    # From the list to the connection, and on to its runs.
    row.locator("th a").first.click()
    page.wait_for_url(f"**/vendorconnection/{tcn.pk}/change/")
    page.click(".object-tools a:text-is('Runs')")
    page.wait_for_url(f"**/collectionrun/?connection__id__exact={tcn.pk}")
    assert "2026-11-30 10:15" in page.locator("#result_list").inner_text()
    assert "CST (America/Chicago)" in page.locator("#result_list").inner_text()


def test_the_stream_page_buttons_sit_in_one_row(page, live_server, manager_a, tcn):
    schedule = CollectionSchedule.objects.get(connection=tcn, stream="config")
    log_in(page, live_server, "manager_a", PASSWORD)
    page.goto(f"{live_server.url}/health/{schedule.pk}/")
    buttons = page.locator("#stream-actions input[type=submit]")
    assert buttons.count() == 3  # test, collect now, pause
    tops = {round(buttons.nth(i).bounding_box()["y"]) for i in range(buttons.count())}
    assert len(tops) == 1, tops

"""The health page on a 1,366-pixel screen: no sideways scrolling, and no date wrapped over
more than two lines, with long errors and token warnings in the rows."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from collectors.models import CollectionSchedule
from tests.conftest import PASSWORD, make_connection
from tests.e2e.conftest import log_in
from tokens.models import AccessToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LONG_ERROR = "TransientError: HTTP 503 from the vendor: " + "upstream connect error or disconnect " * 6


@pytest.fixture
def troubled_connections(tenant_a, manager_a):
    now = timezone.now()
    for vendor, name in (("tcn", "tcn-main-with-a-long-name"), ("8x8", "eight"), ("nextiva", "nextiva")):
        conn = make_connection(tenant_a, vendor, name)
        CollectionSchedule.objects.filter(connection=conn).update(
            status="failing",
            status_since=now - td(hours=3),
            status_reason="3 consecutive failures since 2026-03-02 09:15 UTC",
            last_success_at=now - td(hours=3),
            last_error=LONG_ERROR,
            consecutive_failures=12,
        )
        if vendor == "tcn":
            today = timezone.localdate()
            AccessToken.objects.create(
                connection=conn, section="realtime", issued=today - td(days=360), expires=today + td(days=5)
            )


def test_the_health_page_fits_1366_pixels_without_dates_over_three_lines(
    page, live_server, troubled_connections, screenshots
):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, "manager_a", PASSWORD)
    page.goto(f"{live_server.url}/health/")
    assert page.locator("#health-grid tr[data-stream]").count() == 9
    root = "document.documentElement"
    width = page.evaluate(f"() => [{root}.scrollWidth, {root}.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width[0]} px of content in {width[1]}"
    page.screenshot(path=str(screenshots / "health-page-1366.png"), full_page=True)
    # Lines of text in each date cell: the line boxes of its contents, whatever the row's height.
    lines = page.eval_on_selector_all(
        "#health-grid td.hb-when",
        """cells => cells.map(c => {
            const range = document.createRange();
            range.selectNodeContents(c);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        })""",
    )
    assert len(lines) == 18 and max(lines) <= 2, lines

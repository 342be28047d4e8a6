"""The admin in a real browser: the expiring-token widget, the health page with a sandbox
fault turning a stream red and back, and a partner who never sees tokens."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from collectors import health
from collectors.models import CollectionSchedule
from integrations.sandbox.server import SandboxServer
from tests.conftest import PASSWORD, make_connection
from tests.e2e.conftest import log_in
from tokens.models import AccessToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def color(page, selector: str) -> str:
    return page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundColor")


@pytest.fixture
def tokens(tenant_a, manager_a):
    today = timezone.localdate()
    made = {}
    for name, days in (("later", 60), ("soon", 20), ("urgent", 5)):
        conn = make_connection(tenant_a, "tcn", f"tcn-{name}")
        made[name] = AccessToken.objects.create(
            connection=conn,
            service_login=f"3rd_WFM_{name}",
            owner=manager_a,
            issued=today - td(days=300),
            expires=today + td(days=days),
        )
    return made


def test_a_manager_sees_the_widget_in_order_and_a_renewal_leaves_it(
    page, live_server, manager_a, tokens, screenshots
):
    log_in(page, live_server, "manager_a", PASSWORD)
    rows = page.locator("#token-widget tr.token-row")
    assert rows.count() == 3
    keys = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert keys == ["acme/tcn-urgent", "acme/tcn-soon", "acme/tcn-later"]
    classes = [rows.nth(i).get_attribute("class") for i in range(3)]
    assert [c.split()[-1] for c in classes] == ["token-urgent", "token-soon", "token-ok"]
    urgent, soon = color(page, ".token-badge-urgent"), color(page, ".token-badge-soon")
    assert urgent != soon
    page.locator("#token-widget").screenshot(path=str(screenshots / "token-widget.png"))

    renew_at = timezone.localdate() + td(days=365)
    page.goto(f"{live_server.url}/admin/tokens/accesstoken/{tokens['urgent'].pk}/renew/")
    page.fill("#id_new_expires", renew_at.isoformat())
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/")
    keys = page.locator("#token-widget tr.token-row td:first-child").all_inner_texts()
    assert "acme/tcn-urgent" not in keys and len(keys) == 2


@pytest.fixture
def sandbox(settings):
    # The sandbox listens on loopback, which the egress policy refuses unless allowed.
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    server = SandboxServer("127.0.0.1", 0).start()
    yield server
    server.stop()


def collect(schedule: CollectionSchedule, times: int = 1) -> None:
    from collectors.runs import run_collection

    for _ in range(times):
        CollectionSchedule.objects.filter(pk=schedule.pk).update(lease_until=None, lease_id="")
        run_collection(CollectionSchedule.objects.get(pk=schedule.pk), explicit=True)
    health.evaluate_all()


def test_a_sandbox_fault_turns_the_stream_red_and_it_recovers(
    page, live_server, manager_a, tenant_a, sandbox, screenshots
):
    conn = make_connection(tenant_a, "8x8", "eight", tenant="demo", token="sandbox-8x8-token")
    conn.realtime_base_url = sandbox.base_url("8x8")
    conn.save()
    config = CollectionSchedule.objects.get(connection=conn, stream="config")
    collect(config)
    log_in(page, live_server, "manager_a", PASSWORD)
    page.click("#switchboard-health-link a >> nth=0")
    cell = 'tr[data-connection="acme/eight"][data-stream="config"]'
    assert page.get_attribute(cell, "data-status") == "ok"
    green = color(page, f"{cell} .hb-status.hb-ok")

    sandbox.faults.set("8x8", "500")
    collect(config, times=3)
    page.reload()
    assert page.get_attribute(cell, "data-status") == "failing"
    red = color(page, f"{cell} .hb-status.hb-failing")
    assert red != green and red == "rgb(176, 0, 32)"
    page.screenshot(path=str(screenshots / "health-page.png"), full_page=True)

    page.click(f"{cell} a.hb-cell")
    assert "Status changes" in page.content()
    assert page.locator("#stream-flips").inner_text().count("failing") >= 1

    sandbox.faults.set("8x8", None)
    collect(config)
    page.goto(f"{live_server.url}/health/")
    assert page.get_attribute(cell, "data-status") == "ok"


def test_a_partner_never_sees_tokens(page, live_server, partner_a, tokens):
    log_in(page, live_server, "partner_a", PASSWORD)
    assert page.locator("#token-widget").count() == 0
    assert "3rd_WFM" not in page.content()
    response = page.goto(f"{live_server.url}/admin/tokens/accesstoken/")
    assert response.status in (403, 404)
    response = page.goto(f"{live_server.url}/admin/tokens/accesstoken/{tokens['urgent'].pk}/renew/")
    assert response.status in (403, 404)
    # Health is theirs to see.
    page.goto(f"{live_server.url}/health/")
    assert page.locator("#health-grid").count() == 1

"""A manager adds a TCN connection in a real browser with its token's login and dates."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.models import VendorConnection
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tokens.models import AccessToken

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_tcn_add_form_records_the_token_with_its_expiry(page, live_server, manager_a, tenant_a):
    log_in(page, live_server, "manager_a", PASSWORD)
    # The tenant is an autocomplete widget: it comes chosen from the query string.
    page.goto(f"{live_server.url}/admin/integrations/vendorconnection/add/?vendor=tcn&tenant={tenant_a.pk}")
    assert (
        "one year after the issue date"
        in page.locator("#id_token_expires_helptext, .form-row.field-token_expires").first.inner_text()
    )
    page.fill("#id_name", "tcn-browser")
    page.fill("#id_realtime_access_token", "tcn-token-typed-in-a-browser-01")
    page.fill("#id_token_service_login", "3rd_CommunityWFM_Acme_jdoe")
    page.fill("#id_token_issued", "2026-03-01")
    page.click("input[name=_save]")
    page.wait_for_url("**/vendorconnection/")
    conn = VendorConnection.objects.get(name="tcn-browser")
    token = AccessToken.objects.get(connection=conn)
    assert (token.service_login, token.expires) == ("3rd_CommunityWFM_Acme_jdoe", date(2027, 3, 1))

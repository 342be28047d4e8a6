"""Every TCN connection, however it is created or its token replaced, has one token record."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.forms import connection_form, section_fieldsets
from integrations.models import VendorConnection
from tests.conftest import make_connection
from tests.integrations.test_connections_import import GOOD, run_import
from tests.integrations.test_forms_connection import tcn_data
from tests.tokens.test_admin_actions import inline_management
from tokens.models import AccessToken, TokenValueChange

pytestmark = pytest.mark.django_db

LOGIN = "3rd_CommunityWFM_Acme_jdoe"
NEW_VALUE = "tcn-token-replaced-000000000002"


def admin_add(client, tenant, **over):
    url = reverse("admin:integrations_vendorconnection_add") + "?vendor=tcn"
    return client.post(url, tcn_data(tenant, **over))


def test_the_tcn_form_asks_for_the_login_the_issue_date_and_the_expiry():
    form = connection_form("tcn")
    assert {"token_service_login", "token_issued", "token_expires"} <= set(form.base_fields)
    assert "one year after the issue date" in form.base_fields["token_expires"].help_text
    fieldsets = dict(section_fieldsets("tcn", form))
    assert fieldsets["Access token"]["fields"] == ["token_service_login", "token_issued", "token_expires"]


def test_a_vendor_whose_token_does_not_expire_has_no_token_fields():
    for vendor in ("8x8", "nextiva", "thrio"):
        assert "token_issued" not in connection_form(vendor).base_fields


def test_a_tcn_connection_added_in_the_admin_gets_its_token_record(client, manager_a, tenant_a):
    client.force_login(manager_a)
    response = admin_add(client, tenant_a, token_service_login=LOGIN, token_issued="2026-03-01")
    assert response.status_code == 302, response.context["adminform"].form.errors
    token = AccessToken.objects.get(connection__name="tcn-main")
    assert (token.section, token.service_login, token.issued) == ("realtime", LOGIN, date(2026, 3, 1))
    assert token.expires == date(2027, 3, 1)  # one year after the issue date


def test_an_expiry_typed_in_the_form_is_kept(tenant_a):
    form = connection_form("tcn")(
        data=tcn_data(tenant_a, token_issued="2026-03-01", token_expires="2026-12-31")
    )
    assert form.is_valid(), form.errors
    assert AccessToken.objects.get(connection=form.save()).expires == date(2026, 12, 31)


def test_an_expiry_before_the_issue_date_is_refused_on_the_form(tenant_a):
    form = connection_form("tcn")(
        data=tcn_data(tenant_a, token_issued="2026-03-01", token_expires="2026-02-01")
    )
    assert not form.is_valid()
    assert "must be after the issue date" in form.errors["token_expires"][0]


def test_an_expiry_without_an_issue_date_asks_for_the_issue_date(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, token_expires="2027-02-01"))
    assert not form.is_valid()
    assert form.errors["token_issued"] == ["Give the date the token was issued."]


def test_a_connection_saved_without_an_issue_date_has_no_record(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a))
    assert form.is_valid(), form.errors
    conn = form.save()
    assert not AccessToken.objects.filter(connection=conn).exists()


def test_editing_the_dates_updates_the_one_record(tenant_a):
    conn = connection_form("tcn")(data=tcn_data(tenant_a, token_issued="2026-03-01")).save()
    form = connection_form("tcn")(
        instance=conn,
        data=tcn_data(
            tenant_a, realtime_access_token="", token_issued="2026-03-01", token_expires="2027-01-31"
        ),
    )
    assert form.initial["token_issued"] == date(2026, 3, 1)
    assert form.is_valid(), form.errors
    form.save()
    token = AccessToken.objects.get(connection=conn)
    assert token.expires == date(2027, 1, 31)
    assert not TokenValueChange.objects.exists()


def test_replacing_the_value_asks_for_the_new_tokens_issue_date(tenant_a):
    conn = connection_form("tcn")(data=tcn_data(tenant_a, token_issued="2026-03-01")).save()
    data = tcn_data(tenant_a, realtime_access_token=NEW_VALUE, token_issued="2026-03-01")
    form = connection_form("tcn")(instance=VendorConnection.objects.get(pk=conn.pk), data=data)
    assert not form.is_valid()
    assert "give the date the new token was issued" in form.errors["token_issued"][0]


def test_replacing_the_value_keeps_one_record_with_the_new_dates_and_audits_it(tenant_a):
    conn = connection_form("tcn")(data=tcn_data(tenant_a, token_issued="2026-03-01")).save()
    data = tcn_data(tenant_a, realtime_access_token=NEW_VALUE, token_issued="2026-09-15")
    form = connection_form("tcn")(instance=VendorConnection.objects.get(pk=conn.pk), data=data)
    assert form.is_valid(), form.errors
    form.save()
    token = AccessToken.objects.get(connection=conn)
    assert (token.issued, token.expires) == (date(2026, 9, 15), date(2027, 9, 15))
    change = TokenValueChange.objects.get(token=token)
    assert change.field == "access_token"
    assert VendorConnection.objects.get(pk=conn.pk).values_of("realtime")["access_token"].endswith("0002")


def test_a_token_added_in_the_tokens_admin_is_the_connections_record(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    client.force_login(manager_a)
    add = reverse("admin:tokens_accesstoken_add")
    page = client.get(add, {"connection": conn.pk, "section": "realtime"})
    assert page.context["adminform"].form.initial["connection"] == str(conn.pk)
    data = {"connection": conn.pk, "section": "realtime", "service_login": LOGIN, "issued": "2026-03-01"}
    data.update(inline_management())
    response = client.post(add, data)
    assert response.status_code == 302
    assert AccessToken.objects.get(connection=conn).expires == date(2027, 3, 1)
    again = client.post(add, {**data, "issued": "2026-04-01"})
    assert again.status_code == 200  # refused: the connection already has its token
    assert "already exists" in again.content.decode()
    assert AccessToken.objects.filter(connection=conn).count() == 1


def test_the_yaml_import_keeps_one_record_when_the_dates_change(tmp_path, monkeypatch):
    monkeypatch.setenv("TCN_TOKEN", "tcn-token-from-env-0123456789")
    run_import(tmp_path, GOOD)
    run_import(tmp_path, GOOD.replace("issued: 2026-01-10, expires: 2027-01-10", "issued: 2026-02-01"))
    token = AccessToken.objects.get(connection=VendorConnection.objects.get_by_key("acme/tcn-main"))
    assert (token.issued, token.expires) == (date(2026, 2, 1), date(2027, 2, 1))

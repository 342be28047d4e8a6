"""A base URL the egress policy refuses is a field error where it is typed: admin and YAML import."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations.forms import connection_form
from integrations.models import VendorConnection
from tests.integrations.test_admin_connection_pages import ADD, SECRET, tcn_post
from tests.integrations.test_forms_connection import tcn_data

pytestmark = pytest.mark.django_db

INWARD = [
    "http://127.0.0.1:8765/tcn/backoffice/",
    "http://localhost/backoffice/",
    "http://[::1]/backoffice/",
    "http://0.0.0.0/backoffice/",
    "http://169.254.169.254/latest/meta-data/",
    "http://wfm:hunter2pw@127.0.0.1/backoffice/",
    "http://[::ffff:127.0.0.1]/backoffice/",
    "https://rebind.example/backoffice/",
]


def refusals(form):
    """The form's errors but the notes asking to type a secret again (the form failed, so a
    typed token is not sent back): the refusal must be on the URL alone."""
    return {
        name: errors
        for name, errors in form.errors.items()
        if not all(error.startswith("Not saved:") for error in errors)
    }


@pytest.fixture(autouse=True)
def rebind(fake_dns):
    fake_dns.names["rebind.example"] = ["127.0.0.1"]


@pytest.mark.parametrize("url", INWARD)
def test_a_manager_cannot_save_a_connection_aimed_inward(client, manager_a, tenant_a, url):
    client.force_login(manager_a)
    response = client.post(reverse(ADD) + "?vendor=tcn", tcn_post(tenant_a, realtime_base_url=url))
    assert response.status_code == 200
    errors = refusals(response.context["adminform"].form)
    assert list(errors) == ["realtime_base_url"]
    assert (
        "egress policy refuses" in errors["realtime_base_url"][0]
        or "credentials in the URL" in (errors["realtime_base_url"][0])
    )
    page = response.content.decode()
    assert SECRET not in page and "hunter2pw" not in errors["realtime_base_url"][0]
    assert not VendorConnection.objects.exists()


def test_the_historical_base_url_is_checked_too(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, history_base_url="http://10.0.0.8/backoffice/"))
    assert not form.is_valid()
    assert list(refusals(form)) == ["history_base_url"]
    assert "10.0.0.8 is an address the egress policy refuses (private)" in form.errors["history_base_url"][0]


def test_an_existing_connection_cannot_be_moved_inward(tenant_a, client, manager_a):
    client.force_login(manager_a)
    client.post(reverse(ADD) + "?vendor=tcn", tcn_post(tenant_a))
    conn = VendorConnection.objects.get()
    change = reverse("admin:integrations_vendorconnection_change", args=[conn.pk])
    response = client.post(change, tcn_post(tenant_a, realtime_base_url="http://169.254.169.254/"))
    assert "realtime_base_url" in response.context["adminform"].form.errors
    conn.refresh_from_db()
    assert conn.realtime_base_url == "https://api.tcn3.com/backoffice/"


def test_the_allow_list_lets_a_listed_address_be_saved(tenant_a, settings):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    form = connection_form("tcn")(data=tcn_data(tenant_a, realtime_base_url="http://127.0.0.1:8765/tcn/"))
    assert form.is_valid(), form.errors


def test_a_name_that_does_not_resolve_yet_can_be_saved(tenant_a):
    # Checked again at every request; a connection may be set up before its DNS exists.
    form = connection_form("tcn")(data=tcn_data(tenant_a, realtime_base_url="https://cc.tcn3.invalid/"))
    assert form.is_valid(), form.errors


IMPORT = """
tenants:
  - slug: acme
    name: Acme Support
    connections:
      - name: tcn-main
        vendor: tcn
        realtime: {base_url: "https://api.tcn3.com/backoffice/", access_token: "tcn-token-0123456789"}
      - name: eight
        vendor: 8x8
        realtime: {base_url: "%s", tenant: acme, token: "inline-8x8-token-0123456789"}
        history: {base_url: "http://169.254.169.254/latest/"}
"""


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "https://rebind.example/api/"])
def test_the_yaml_import_names_the_path_of_an_inward_base_url_and_changes_nothing(tmp_path, url):
    path = tmp_path / "connections.yaml"
    path.write_text(IMPORT % url)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("connections", "import", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue()
    assert "tenants[0].connections[1].realtime.base_url: " in lines
    assert "tenants[0].connections[1].history.base_url: 169.254.169.254 is an address" in lines
    assert "egress policy refuses" in lines
    assert not VendorConnection.objects.exists()

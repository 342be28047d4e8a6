"""The connection pages: pick a vendor first, then exactly its fields; secrets never echoed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import VendorConnection
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

SECRET = "tcn-secret-value-zz-9f3c"
ADD = "admin:integrations_vendorconnection_add"


def change_url(conn) -> str:
    return reverse("admin:integrations_vendorconnection_change", args=[conn.pk])


def tcn_post(tenant, **over):
    data = {
        "tenant": tenant.pk,
        "name": "tcn-main",
        "enabled": "on",
        "realtime_base_url": "https://api.tcn3.com/backoffice/",
        "interval_minutes": "15",
        "time_zone": "America/Los_Angeles",
        "realtime_access_token": SECRET,
        "realtime_client_sid": "",
        "history_base_url": "",
        "history_drop_folder": "acme",
        "options": "{}",
        "state_map": "{}",
    }
    data.update(over)
    return data


@pytest.fixture
def conn(tenant_a):
    return make_connection(tenant_a, "tcn", "tcn-main", access_token=SECRET, drop_folder="acme")


def test_the_add_page_first_asks_for_the_vendor(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse(ADD))
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("tcn", "8x8", "nextiva", "thrio"):
        assert f'href="?vendor={key}"' in html


def test_an_unknown_vendor_is_named_on_the_chooser(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse(ADD), {"vendor": "tcm"})
    assert "unknown vendor &#x27;tcm&#x27;" in response.content.decode()
    assert response.context["form"].errors["vendor"]


@pytest.mark.parametrize(
    ("vendor", "present", "absent"),
    [
        ("tcn", "realtime_access_token", "realtime_token"),
        ("8x8", "realtime_token", "realtime_access_token"),
        ("nextiva", "realtime_username", "realtime_account"),
        ("thrio", "realtime_account", "realtime_username"),
    ],
)
def test_the_add_form_shows_the_chosen_vendors_fields(client, manager_a, vendor, present, absent):
    client.force_login(manager_a)
    response = client.get(reverse(ADD), {"vendor": vendor})
    html = response.content.decode()
    assert f'name="{present}"' in html
    assert f'name="{absent}"' not in html
    assert "Real-time adherence" in html and "Historical contact volume" in html


def test_adding_a_connection_saves_it_encrypted(client, manager_a, tenant_a):
    client.force_login(manager_a)
    response = client.post(reverse(ADD) + "?vendor=tcn", tcn_post(tenant_a))
    assert response.status_code == 302
    conn = VendorConnection.objects.get(name="tcn-main")
    assert conn.vendor == "tcn"
    assert conn.values_of("realtime")["access_token"] == SECRET


def test_a_bad_post_saves_nothing_and_never_echoes_the_secret(client, manager_a, tenant_a):
    client.force_login(manager_a)
    response = client.post(
        reverse(ADD) + "?vendor=tcn", tcn_post(tenant_a, realtime_base_url="ftp://x", interval_minutes="0")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    # The typed token gets its own note: it must be typed again (test_admin_typed_secrets.py).
    assert set(errors) == {"realtime_base_url", "interval_minutes", "realtime_access_token"}
    assert SECRET not in response.content.decode()
    assert not VendorConnection.objects.exists()


def test_the_change_page_shows_only_the_mask(client, manager_a, conn):
    client.force_login(manager_a)
    html = client.get(change_url(conn)).content.decode()
    assert SECRET not in html
    assert "••••9f3c" in html
    assert 'name="realtime_access_token"' in html
    # The vendor is fixed once the connection exists.
    assert 'name="vendor"' not in html or "disabled" in html.split('name="vendor"')[1].split(">")[0]


def test_saving_the_change_page_with_blank_secret_keeps_it(client, manager_a, tenant_a, conn):
    client.force_login(manager_a)
    data = tcn_post(tenant_a, realtime_access_token="", interval_minutes="10")
    data.pop("tenant")
    response = client.post(change_url(conn), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    conn = VendorConnection.objects.get(pk=conn.pk)
    assert conn.interval_seconds == 600
    assert conn.values_of("realtime")["access_token"] == SECRET


def test_secrets_never_appear_in_changelist_or_history(client, manager_a, tenant_a, conn):
    client.force_login(manager_a)
    data = tcn_post(tenant_a, realtime_access_token="another-secret-value-0042")
    data.pop("tenant")
    client.post(change_url(conn), data)
    pages = [
        reverse("admin:integrations_vendorconnection_changelist"),
        reverse("admin:integrations_vendorconnection_history", args=[conn.pk]),
        change_url(conn),
        reverse("admin:integrations_vendorconnection_changelist") + "?q=secret",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert SECRET not in html and "another-secret-value-0042" not in html, url


def test_a_partner_sees_no_credential_field_at_all(client, partner_a, conn):
    client.force_login(partner_a)
    response = client.get(change_url(conn))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET not in html
    assert "••••" not in html
    assert "access_token" not in html and "Access token" not in html
    assert "https://api.tcn3.com/backoffice/" in html  # they do see the connection


def test_a_partner_cannot_add_change_or_delete(client, partner_a, tenant_a, conn):
    client.force_login(partner_a)
    assert client.get(reverse(ADD)).status_code == 403
    assert client.get(reverse(ADD), {"vendor": "tcn"}).status_code == 403
    assert client.post(reverse(ADD) + "?vendor=tcn", tcn_post(tenant_a, name="p")).status_code == 403
    assert client.post(change_url(conn), tcn_post(tenant_a, name="renamed")).status_code == 403
    delete = reverse("admin:integrations_vendorconnection_delete", args=[conn.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    conn.refresh_from_db()
    assert conn.name == "tcn-main"
    assert VendorConnection.objects.count() == 1


def test_a_partner_has_no_actions_that_change_things(client, partner_a, conn):
    client.force_login(partner_a)
    client.post(
        reverse("admin:integrations_vendorconnection_changelist"),
        {"action": "disable", "_selected_action": [conn.pk]},
    )
    conn.refresh_from_db()
    assert conn.enabled is True


def test_the_list_shows_and_filters_by_the_vendors_label(client, manager_a, tenant_a, tenant_b, conn):
    make_connection(tenant_a, "8x8", "eight")
    make_connection(tenant_b, "thrio", "bolt-thrio")
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_changelist")
    html = client.get(url).content.decode()
    # Every registered vendor is offered, by its label, whoever's connections exist.
    for label in ("TCN", "8x8", "Nextiva Contact Center", "Thrio"):
        assert f">{label}</a>" in html
    assert '<td class="field-vendor_shown">TCN</td>' in html
    filtered = client.get(url, {"vendor": "8x8"})
    assert [c.name for c in filtered.context["cl"].result_list] == ["eight"]


def test_a_partner_sees_the_vendors_label(client, partner_a, conn):
    client.force_login(partner_a)
    response = client.get(change_url(conn))
    assert '<div class="readonly">TCN</div>' in response.content.decode()

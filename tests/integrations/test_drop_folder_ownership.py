"""A connection's drop folder is its own: derived for tenant managers, checked for staff.

Tenant A (acme) tries B's (bolt) folder in every form a path can take. A tenant manager's
form has no path at all; an account manager's explicit path, the connections file and the
model itself refuse each form with a message on the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import Tenant, VendorConnection
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

# The five ways A's manager reached B's folder before: B's relative and absolute paths,
# a path through `..`, B's parent, and a link inside A's folder pointing at B's.
FORMS = ("relative", "absolute", "dot-dot", "parent", "symlink")


@pytest.fixture
def root(settings, tmp_path) -> Path:
    root = tmp_path / "drops"
    (root / "acme").mkdir(parents=True)
    (root / "bolt" / "tcn").mkdir(parents=True)
    (root / "acme" / "link").symlink_to(root / "bolt" / "tcn")
    settings.DROP_ROOT = str(root)
    return root


def b_path(root: Path, form: str) -> str:
    return {
        "relative": "bolt/tcn",
        "absolute": str(root / "bolt" / "tcn"),
        "dot-dot": "acme/../bolt/tcn",
        "parent": "bolt",
        "symlink": "acme/link",
    }[form]


@pytest.fixture
def conn_a(root, tenant_a) -> VendorConnection:
    conn = VendorConnection(tenant=tenant_a, vendor="tcn", name="tcn")
    conn.apply_vendor_defaults()
    conn.set_values("realtime", {"access_token": "tcn-token-a-0123456789"})
    conn.save()
    return conn


@pytest.fixture
def conn_b(root, tenant_b) -> VendorConnection:
    conn = VendorConnection(tenant=tenant_b, vendor="tcn", name="tcn")
    conn.apply_vendor_defaults()
    conn.set_values("realtime", {"access_token": "tcn-token-b-0123456789"})
    conn.save()
    return conn


def post_data(conn: VendorConnection, **over: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": conn.name,
        "enabled": "on",
        "realtime_base_url": conn.realtime_base_url,
        "interval_minutes": f"{conn.interval_seconds / 60:g}",  # TCN asks in minutes
        "time_zone": conn.time_zone,
        "realtime_access_token": "",
        "realtime_client_sid": "",
        "history_base_url": "",
        "history_ftp_username": "",
        "options": "{}",
        "state_map": "{}",
    }
    data.update(over)
    return data


def change_url(conn: VendorConnection) -> str:
    return reverse("admin:integrations_vendorconnection_change", args=[conn.pk])


def test_a_new_connection_gets_its_own_folder_under_its_tenant(root, conn_a, conn_b):
    assert conn_a.drop_folder() == root / "acme" / "tcn"
    assert conn_b.drop_folder() == root / "bolt" / "tcn"


@pytest.mark.parametrize("form", FORMS)
def test_a_tenant_manager_cannot_set_a_drop_path_at_all(client, manager_a, root, conn_a, conn_b, form):
    client.force_login(manager_a)
    response = client.post(change_url(conn_a), post_data(conn_a, history_drop_folder=b_path(root, form)))
    assert response.status_code == 302
    conn_a.refresh_from_db()
    # The posted path was no field of the manager's form: the folder is still derived.
    assert conn_a.history_values.get("drop_folder", "") == ""
    assert conn_a.drop_folder() == root / "acme" / "tcn"


def test_the_tenant_managers_page_shows_the_folder_but_no_path_input(client, manager_a, conn_a):
    client.force_login(manager_a)
    html = client.get(change_url(conn_a)).content.decode()
    assert 'name="history_drop_folder"' not in html
    assert "DROP_ROOT/acme/tcn/" in html


def test_a_tenant_managers_save_keeps_an_account_managers_path(client, manager_a, root, conn_a):
    (root / "acme" / "inbox").mkdir()
    conn_a.set_values("history", {"drop_folder": "acme/inbox"})
    conn_a.save()
    client.force_login(manager_a)
    response = client.post(change_url(conn_a), post_data(conn_a, interval_minutes="10"))
    assert response.status_code == 302
    conn_a.refresh_from_db()
    assert conn_a.interval_seconds == 600
    assert conn_a.history_values["drop_folder"] == "acme/inbox"


@pytest.mark.parametrize("form", FORMS)
def test_an_account_manager_cannot_give_a_the_folder_of_b(client, superuser, root, conn_a, conn_b, form):
    client.force_login(superuser)
    response = client.post(change_url(conn_a), post_data(conn_a, history_drop_folder=b_path(root, form)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["history_drop_folder"]
    assert "DROP_ROOT/acme/" in errors[0] or "symbolic link" in errors[0]
    conn_a.refresh_from_db()
    assert conn_a.history_values.get("drop_folder", "") == ""


@pytest.mark.parametrize("form", FORMS)
def test_the_model_refuses_the_folder_of_another_tenant_in_every_form(root, conn_a, conn_b, form):
    conn_a.set_values("history", {"drop_folder": b_path(root, form)})
    with pytest.raises(ValidationError) as info:
        conn_a.full_clean()
    assert "history_drop_folder" in info.value.message_dict


def test_an_account_manager_may_set_a_real_folder_inside_the_tenants_own(client, superuser, root, conn_a):
    client.force_login(superuser)
    response = client.post(change_url(conn_a), post_data(conn_a, history_drop_folder="acme/inbox"))
    assert response.status_code == 302
    conn_a.refresh_from_db()
    assert conn_a.drop_folder() == root / "acme" / "inbox"


@pytest.mark.parametrize("folder", ["acme/tcn", "acme/tcn/sub", "ACME/TCN"])
def test_an_explicit_folder_may_not_be_inside_or_the_same_as_another_connections(
    root, tenant_a, conn_a, folder
):
    other = make_connection(tenant_a, "tcn", "second")
    other.set_values("history", {"drop_folder": folder})
    with pytest.raises(ValidationError) as info:
        other.full_clean()
    [message] = info.value.message_dict["history_drop_folder"]
    assert "another connection's drop folder" in message or "DROP_ROOT/acme/" in message


def test_an_explicit_folder_may_not_contain_another_connections(root, tenant_a, conn_a):
    (root / "acme" / "all").mkdir()
    conn_a.set_values("history", {"drop_folder": "acme/all/tcn"})
    conn_a.full_clean()
    conn_a.save()
    other = make_connection(tenant_a, "tcn", "second")
    other.set_values("history", {"drop_folder": "acme/all"})
    with pytest.raises(ValidationError, match="another connection's drop folder"):
        other.full_clean()


def test_a_name_whose_folder_an_explicit_path_already_holds_is_refused_on_the_name(root, tenant_a, conn_a):
    conn_a.set_values("history", {"drop_folder": "acme/inbox"})
    conn_a.full_clean()
    conn_a.save()
    new = VendorConnection(tenant=tenant_a, vendor="tcn", name="inbox")
    new.apply_vendor_defaults()
    new.set_values("realtime", {"access_token": "tcn-token-c-0123456789"})
    with pytest.raises(ValidationError) as info:
        new.full_clean()
    assert "another connection's drop folder" in info.value.message_dict["name"][0]


def test_a_tenants_slug_cannot_change_once_it_has_connections(client, manager_a, tenant_a, conn_a):
    # The old slug's folders would wait for whichever tenant takes the slug next.
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:integrations_tenant_change", args=[tenant_a.pk]),
        {
            "name": tenant_a.name,
            "slug": "acme-renamed",
            "time_zone": tenant_a.time_zone,
            "active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "cannot change" in response.context["adminform"].form.errors["slug"][0]
    assert Tenant.objects.get(pk=tenant_a.pk).slug == "acme"


def test_the_connections_file_refuses_bs_folder_for_a(root, tenant_a, tenant_b, conn_b):
    from wfm_site.connections_file import FileProblems, import_text

    text = """
tenants:
  - slug: acme
    connections:
      - name: tcn
        vendor: tcn
        realtime: {access_token: tcn-token-a-0123456789}
        history: {drop_folder: bolt/tcn}
"""
    with pytest.raises(FileProblems) as info:
        import_text(text)
    assert any("tenants[0].connections[0].history.drop_folder" in p for p in info.value.problems)
    assert not VendorConnection.objects.filter(tenant=tenant_a).exists()


def test_the_tenant_managers_page_shows_an_explicit_folder_without_the_servers_path(
    client, manager_a, root, conn_a
):
    (root / "acme" / "inbox").mkdir()
    conn_a.set_values("history", {"drop_folder": str(root / "acme" / "inbox")})
    conn_a.save()
    client.force_login(manager_a)
    html = client.get(change_url(conn_a)).content.decode()
    assert "DROP_ROOT/acme/inbox/" in html
    assert str(root) not in html

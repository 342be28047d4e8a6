"""A stored secret is only ever sent to the host it was entered for.

Someone allowed to edit a connection, but never shown its token, must not be able to point
the base URL at their own server and have "Test connection" deliver the token there.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.forms import connection_form
from integrations.models import VendorConnection
from tests.conftest import make_connection
from tests.integrations.test_forms_connection import tcn_data

pytestmark = pytest.mark.django_db
TOKEN = "tcn-token-abcdefghijkl-0001"


@pytest.fixture
def conn(tenant_a):
    return make_connection(tenant_a, "tcn", "tcn-main", access_token=TOKEN, drop_folder="acme")


def test_moving_the_base_url_to_another_host_needs_the_token_again(conn):
    conn = VendorConnection.objects.get(pk=conn.pk)
    conn.realtime_base_url = "https://attacker.example/backoffice/"
    with pytest.raises(ValidationError) as excinfo:
        conn.full_clean()
    assert "realtime_access_token" in excinfo.value.message_dict
    assert "another host" in excinfo.value.message_dict["realtime_access_token"][0]


def test_a_history_url_on_another_host_needs_the_secrets_it_would_send(conn):
    conn = VendorConnection.objects.get(pk=conn.pk)
    conn.history_base_url = "https://elsewhere.example/"
    with pytest.raises(ValidationError) as excinfo:
        conn.full_clean()
    assert "history_access_token" in excinfo.value.message_dict


def test_another_path_on_the_same_host_is_fine(conn):
    conn = VendorConnection.objects.get(pk=conn.pk)
    conn.realtime_base_url = "https://API.tcn3.com/other/backoffice/"
    conn.full_clean()


def test_re_entering_the_token_with_the_new_host_is_accepted(conn):
    conn = VendorConnection.objects.get(pk=conn.pk)
    conn.realtime_base_url = "https://ca-api.tcn3.com/backoffice/"
    conn.set_values("realtime", {"access_token": "tcn-token-new-host-00000002"})
    conn.full_clean()


def test_the_admin_form_refuses_the_move_and_saves_nothing(conn, tenant_a):
    data = tcn_data(tenant_a, realtime_base_url="https://attacker.example/", realtime_access_token="")
    form = connection_form("tcn")(data=data, instance=VendorConnection.objects.get(pk=conn.pk))
    assert not form.is_valid()
    assert "another host" in str(form.errors["realtime_access_token"])
    conn.refresh_from_db()
    assert conn.realtime_base_url == "https://api.tcn3.com/backoffice/"

"""A connection's payload field map: edited in the admin and the YAML file, checked on save."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations.forms import connection_form
from integrations.models import VendorConnection
from integrations.vendors import field_map
from integrations.vendors.ncc.vendor import Nextiva
from tests.conftest import make_connection
from tests.integrations.test_admin_connection_pages import ADD, change_url
from tests.integrations.test_connections_import import import_error, run_import
from tests.integrations.test_forms_connection import tcn_data

pytestmark = pytest.mark.django_db


def ncc_data(tenant, **over):
    data = {
        "tenant": tenant.pk,
        "name": "ncc",
        "enabled": "on",
        "realtime_base_url": "https://login.thrio.com/",
        "interval_seconds": "30",
        "time_zone": "UTC",
        "realtime_username": "wfm",
        "realtime_password": "nextiva-password-0123",
        "history_base_url": "",
        "options": "{}",
        "state_map": "{}",
    }
    data.update(over)
    return data


def defaults_with(**changes: str) -> str:
    return field_map.as_lines({**Nextiva.default_field_map, **changes})


# --- the admin form -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "has_map"), [("nextiva", True), ("thrio", True), ("8x8", True), ("tcn", False)]
)
def test_the_vendors_with_unpublished_payloads_have_a_field_map_field(vendor, has_map):
    assert ("field_map" in connection_form(vendor).base_fields) is has_map


def test_the_field_map_field_shows_every_default_name():
    form = connection_form("nextiva")()
    assert form.initial["field_map"] == field_map.as_lines(Nextiva.default_field_map)
    assert "agent_id=agent-id" in form.as_p()
    assert "entered=enteredCount" in str(form.fields["field_map"].help_text)


def test_a_renamed_field_is_stored_in_the_options_and_only_the_differences(tenant_a):
    text = defaults_with(entered="offered", agent_list="data")
    form = connection_form("nextiva")(data=ncc_data(tenant_a, field_map=text))
    assert form.is_valid(), form.errors
    conn = VendorConnection.objects.get(pk=form.save().pk)
    assert conn.options == {"field_map": {"agent_list": "data", "entered": "offered"}}
    assert conn.connection_settings().options["field_map"] == {"agent_list": "data", "entered": "offered"}


def test_a_few_lines_or_a_json_object_are_enough(tenant_a):
    for text in ("entered = offered\n\n# the rest as default\n", '{"entered": "offered"}'):
        form = connection_form("nextiva")(data=ncc_data(tenant_a, field_map=text))
        assert form.is_valid(), form.errors
        assert form.cleaned_data["options"] == {"field_map": {"entered": "offered"}}


def test_the_stored_map_is_shown_again_and_saving_it_unchanged_keeps_it(tenant_a):
    conn = make_connection(tenant_a, "nextiva", "ncc")
    conn.options = {"volume_path": "/wfm/v2/intervals", "field_map": {"queue_id": "queue"}}
    conn.save()
    form = connection_form("nextiva")(instance=conn)
    assert "queue_id=queue" in form.initial["field_map"].splitlines()
    data = ncc_data(
        tenant_a, realtime_password="", options=json.dumps(conn.options), field_map=form.initial["field_map"]
    )
    form = connection_form("nextiva")(data=data, instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    conn.refresh_from_db()
    assert conn.options == {"volume_path": "/wfm/v2/intervals", "field_map": {"queue_id": "queue"}}


def test_setting_every_name_back_to_its_default_removes_the_map(tenant_a):
    conn = make_connection(tenant_a, "nextiva", "ncc")
    conn.options = {"field_map": {"queue_id": "queue"}}
    conn.save()
    data = ncc_data(
        tenant_a, realtime_password="", options=json.dumps(conn.options), field_map=defaults_with()
    )
    form = connection_form("nextiva")(data=data, instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    conn.refresh_from_db()
    assert conn.options == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agent_idd=agentId", "Field map: unknown key(s) 'agent_idd' (use agent_list, agent_id,"),
        ("agent_id=", "Field map: 'agent_id' has an empty field name."),
        ('{"entered": ""}', "Field map: 'entered' has an empty field name."),
        ('{"entered": 7}', "Field map: 'entered' must be a field name (text), got int."),
        ("entered offered", "Field map: line 1: 'entered offered' is not name=vendor_field."),
        ("entered=a\nentered=b", "Field map: line 2: 'entered' is given twice."),
        ("[1]", "Field map: line 1: '[1]' is not name=vendor_field."),
        ('{"entered": ', "Field map: not valid JSON"),
    ],
)
def test_a_wrong_field_map_is_an_error_naming_the_key(tenant_a, text, message):
    form = connection_form("nextiva")(data=ncc_data(tenant_a, field_map=text))
    assert not form.is_valid()
    assert form.errors["field_map"][0].startswith(message)
    assert not VendorConnection.objects.exists()


def test_a_field_map_typed_into_the_options_is_checked_too(tenant_a):
    form = connection_form("nextiva")(data=ncc_data(tenant_a, options='{"field_map": {"queue": "q"}}'))
    assert not form.is_valid()
    assert form.errors["options"][0].startswith("Option 'field_map': unknown key(s) 'queue'")


def test_a_tcn_connection_has_no_field_map(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, options='{"field_map": {"queue_id": "q"}}'))
    assert not form.is_valid()
    assert form.errors["options"] == ["Option 'field_map': TCN payloads have no field map."]


def test_the_admin_add_page_shows_and_saves_the_field_map(client, manager_a, tenant_a):
    client.force_login(manager_a)
    page = client.get(reverse(ADD), {"vendor": "thrio"}).content.decode()
    assert 'name="field_map"' in page
    assert "agent_state=agent-status" in page
    data = ncc_data(tenant_a, field_map="state_since=since")
    data.pop("realtime_username")
    data["realtime_account"] = "acct"
    response = client.post(reverse(ADD) + "?vendor=thrio", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    conn = VendorConnection.objects.get(name="ncc")
    assert conn.options == {"field_map": {"state_since": "since"}}
    assert "state_since=since" in client.get(change_url(conn)).content.decode()


# --- the YAML file ----------------------------------------------------------------------------
YAML = """
tenants:
  - slug: acme
    connections:
      - name: ncc
        vendor: nextiva
        realtime: {{username: wfm, password: "nextiva-password-0001"}}
        options: {{field_map: {field_map}}}
"""


def test_the_yaml_file_sets_a_field_map_and_keeps_only_the_differences(tmp_path):
    run_import(tmp_path, YAML.format(field_map="{entered: offered, queue_id: queueId}"))
    conn = VendorConnection.objects.get(name="ncc")
    assert conn.options == {"field_map": {"entered": "offered"}}
    out, _ = run_import(tmp_path, YAML.format(field_map="{entered: offered}"), "--json")
    assert json.loads(out)["changed"] == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{enteredd: offered}", "unknown key(s) 'enteredd' (use agent_list"),
        ("{entered: ''}", "'entered' has an empty field name"),
        ("{entered: '  '}", "'entered' has an empty field name"),
        ("[entered]", "must be a mapping of names to vendor field names"),
    ],
)
def test_a_wrong_field_map_in_the_yaml_file_is_a_problem_at_its_path(tmp_path, value, message):
    lines = import_error(tmp_path, YAML.format(field_map=value))
    assert any(
        line.startswith("tenants[0].connections[0].options.field_map: ") and message in line for line in lines
    ), lines
    assert not VendorConnection.objects.exists()


def test_the_yaml_file_takes_tcns_old_zone_aliases(tmp_path, monkeypatch):
    monkeypatch.setenv("TCN_TOKEN", "tcn-token-from-env-0123456789")
    text = """
tenants:
  - slug: acme
    connections:
      - name: tcn-main
        vendor: tcn
        time_zone: Canada/East-Saskatchewan
        realtime: {access_token: "${TCN_TOKEN}"}
"""
    run_import(tmp_path, text)
    assert VendorConnection.objects.get(name="tcn-main").time_zone == "America/Regina"


def test_a_map_typed_into_the_options_wins_over_the_unedited_textarea(tenant_a):
    conn = make_connection(tenant_a, "nextiva", "ncc")
    shown = connection_form("nextiva")(instance=conn).initial["field_map"].replace("\n", "\r\n")
    data = ncc_data(
        tenant_a, realtime_password="", options='{"field_map": {"entered": "offered"}}', field_map=shown
    )
    form = connection_form("nextiva")(data=data, instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    conn.refresh_from_db()
    assert conn.options == {"field_map": {"entered": "offered"}}

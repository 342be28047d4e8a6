"""The connection form shows exactly the chosen vendor's fields and rejects bad input on the field."""

from __future__ import annotations

import pytest

from integrations.forms import connection_form
from integrations.models import VendorConnection
from integrations.vendors import get_vendor
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def tcn_data(tenant, **over):
    data = {
        "tenant": tenant.pk,
        "name": "tcn-main",
        "enabled": "on",
        "realtime_base_url": "https://api.tcn3.com/backoffice/",
        "interval_minutes": "15",
        "time_zone": "America/Los_Angeles",
        "realtime_access_token": "tcn-token-abcdefghijkl-0001",
        "realtime_client_sid": "4412",
        "history_base_url": "",
        "history_drop_folder": "acme/inbox",
        "options": "{}",
        "state_map": "{}",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("staff", [True, False])
@pytest.mark.parametrize("vendor", ["tcn", "8x8", "nextiva", "thrio"])
def test_each_vendor_form_has_exactly_that_vendors_fields(vendor, staff):
    declared = get_vendor(vendor)
    expected = {"realtime_base_url", "history_base_url"}
    for section in ("realtime", "history"):
        for field in declared.fields(section):
            if field.staff_only and not staff:
                continue
            expected.add(f"{section}_{field.name}")
            if field.secret and not (section == "realtime" and field.required):
                expected.add(f"{section}_{field.name}__clear")
    form = connection_form(vendor, staff=staff)
    fields = {n for n in form.base_fields if n.startswith(("realtime_", "history_"))}
    assert fields == expected


def test_secret_fields_are_password_inputs_and_others_are_not():
    fields = connection_form("8x8").base_fields
    assert fields["realtime_token"].widget.input_type == "password"
    assert fields["realtime_token"].widget.render_value is False
    assert fields["realtime_tenant"].widget.input_type == "text"
    assert "realtime_access_token" not in fields


def test_unknown_vendor_has_no_form():
    with pytest.raises(KeyError, match="unknown vendor 'tcm'"):
        connection_form("tcm")


def test_a_valid_form_saves_values_and_encrypted_secrets(tenant_a):
    form = connection_form("tcn", staff=True)(data=tcn_data(tenant_a))
    assert form.is_valid(), form.errors
    conn = form.save()
    conn = VendorConnection.objects.get(pk=conn.pk)
    assert conn.vendor == "tcn"
    assert conn.values_of("realtime") == {
        "access_token": "tcn-token-abcdefghijkl-0001",
        "client_sid": "4412",
    }
    assert conn.values_of("history")["drop_folder"] == "acme/inbox"


def test_the_secret_input_never_renders_the_stored_value(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main", access_token="tcn-secret-zzzz-abcd")
    html = connection_form("tcn")(instance=conn).as_p()
    assert "tcn-secret-zzzz-abcd" not in html
    assert "••••abcd" in html


def test_a_blank_secret_keeps_the_stored_value(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main", access_token="tcn-secret-keep-0001")
    form = connection_form("tcn")(data=tcn_data(tenant_a, realtime_access_token=""), instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    conn = VendorConnection.objects.get(pk=conn.pk)
    assert conn.values_of("realtime")["access_token"] == "tcn-secret-keep-0001"


def test_clear_removes_an_optional_stored_secret(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    conn.set_values("history", {"drop_folder": "acme/inbox", "access_token": "history-token-0000-wxyz"})
    conn.save()
    form = connection_form("tcn")(
        data=tcn_data(tenant_a, realtime_access_token="", history_access_token__clear="on"), instance=conn
    )
    assert form.is_valid(), form.errors
    form.save()
    conn = VendorConnection.objects.get(pk=conn.pk)
    assert "access_token" not in conn.history_secrets


def test_a_missing_required_secret_is_an_error_on_its_field(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, realtime_access_token=""))
    assert not form.is_valid()
    assert "Access token is required for TCN." in form.errors["realtime_access_token"]


@pytest.mark.parametrize(
    "url", ["ftp://api.tcn3.com/", "javascript:alert(1)", "file:///etc/passwd", "api.tcn3"]
)
def test_a_base_url_that_is_not_http_is_rejected(tenant_a, url):
    form = connection_form("tcn")(data=tcn_data(tenant_a, realtime_base_url=url))
    assert not form.is_valid()
    assert form.errors["realtime_base_url"] == ["Enter an http:// or https:// URL."]
    form = connection_form("tcn")(data=tcn_data(tenant_a, history_base_url=url))
    assert not form.is_valid()
    assert "history_base_url" in form.errors


def eight_data(tenant, **over):
    """An 8x8 form, whose interval is entered in seconds (TCN's is in minutes)."""
    data = {
        "tenant": tenant.pk,
        "name": "eight",
        "enabled": "on",
        "realtime_base_url": "https://vcc-na10b.8x8.com/api/",
        "interval_seconds": "10",
        "time_zone": "America/Chicago",
        "realtime_tenant": "acme",
        "realtime_token": "8x8-token-abcdefghijkl-0001",
        "history_base_url": "",
        "options": "{}",
        "state_map": "{}",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("interval", ["4", "0", "86401"])
def test_an_interval_outside_five_seconds_to_a_day_is_rejected(tenant_a, interval):
    form = connection_form("8x8")(data=eight_data(tenant_a, interval_seconds=interval))
    assert not form.is_valid()
    assert "interval must be between 5 seconds and one day" in form.errors["interval_seconds"][0]


@pytest.mark.parametrize("interval", ["5", "86400"])
def test_the_interval_bounds_themselves_are_accepted(tenant_a, interval):
    form = connection_form("8x8")(data=eight_data(tenant_a, interval_seconds=interval))
    assert form.is_valid(), form.errors


def test_a_duplicate_name_in_the_tenant_is_rejected_on_the_name(tenant_a):
    make_connection(tenant_a, "8x8", "tcn-main")
    form = connection_form("tcn")(data=tcn_data(tenant_a))
    assert not form.is_valid()
    assert form.errors["name"] == ["Acme Support already has a connection named 'tcn-main'."]
    assert VendorConnection.objects.filter(name="tcn-main").count() == 1


def test_the_same_name_in_another_tenant_is_fine(tenant_a, tenant_b):
    make_connection(tenant_b, "tcn", "tcn-main")
    assert connection_form("tcn")(data=tcn_data(tenant_a)).is_valid()


def test_renaming_onto_an_existing_name_is_rejected(tenant_a):
    make_connection(tenant_a, "8x8", "taken")
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    form = connection_form("tcn")(
        data=tcn_data(tenant_a, name="taken", realtime_access_token=""), instance=conn
    )
    assert not form.is_valid()
    assert "name" in form.errors


def test_a_connection_name_with_spaces_is_rejected(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, name="tcn main"))
    assert not form.is_valid()
    assert "name" in form.errors


def test_a_state_map_to_an_unknown_neutral_state_is_rejected(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, state_map='{"Lunch": "snacking"}'))
    assert not form.is_valid()
    assert "unknown neutral state(s) ['snacking']" in form.errors["state_map"][0]


def test_options_must_be_an_object(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, options="[1, 2]"))
    assert not form.is_valid()
    assert "Options must be a JSON object" in form.errors["options"][0]


def test_an_unknown_time_zone_is_rejected(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, time_zone="Mars/Olympus"))
    assert not form.is_valid()
    assert "unknown time zone 'Mars/Olympus'" in form.errors["time_zone"][0]


def test_the_posted_vendor_is_ignored(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, vendor="8x8"))
    assert form.is_valid(), form.errors
    assert form.save().vendor == "tcn"


def test_new_forms_start_from_the_vendors_defaults():
    form = connection_form("8x8")()
    assert form.initial["interval_seconds"] == 10
    assert form.initial["realtime_base_url"] == "https://vcc-na10b.8x8.com/api/"

"""The TCN form asks for its interval in minutes and accepts every time zone of TCN's guide."""

from __future__ import annotations

import pytest

from integrations.forms import connection_form
from integrations.models import VendorConnection
from integrations.vendors.tcn import zones
from tests.conftest import make_connection
from tests.integrations.test_forms_connection import eight_data, tcn_data

pytestmark = pytest.mark.django_db


def test_the_tcn_form_asks_for_minutes_and_the_others_for_seconds():
    tcn = connection_form("tcn").base_fields
    assert "interval_seconds" not in tcn
    assert tcn["interval_minutes"].label == "Transaction collection interval (minutes)"
    for vendor in ("8x8", "nextiva", "thrio"):
        fields = connection_form(vendor).base_fields
        assert "interval_minutes" not in fields
        assert "(seconds)" in str(fields["interval_seconds"].label)


def test_a_new_tcn_form_starts_at_fifteen_minutes():
    assert connection_form("tcn")().initial["interval_minutes"] == 15


@pytest.mark.parametrize(("minutes", "seconds"), [("15", 900), ("1", 60), ("1440", 86400), ("2.5", 150)])
def test_minutes_typed_are_stored_as_seconds(tenant_a, minutes, seconds):
    form = connection_form("tcn")(data=tcn_data(tenant_a, interval_minutes=minutes))
    assert form.is_valid(), form.errors
    assert VendorConnection.objects.get(pk=form.save().pk).interval_seconds == seconds


@pytest.mark.parametrize("minutes", ["0", "1441", "0.05"])
def test_minutes_outside_five_seconds_to_a_day_are_rejected_in_minutes(tenant_a, minutes):
    form = connection_form("tcn")(data=tcn_data(tenant_a, interval_minutes=minutes))
    assert not form.is_valid()
    assert "interval must be between" in form.errors["interval_minutes"][0]
    assert "1440 minutes" in form.errors["interval_minutes"][0]


def test_seconds_posted_to_the_tcn_form_are_not_taken_for_minutes(tenant_a):
    data = tcn_data(tenant_a, interval_seconds="30")
    data.pop("interval_minutes")
    form = connection_form("tcn")(data=data)
    assert not form.is_valid()
    assert "interval_minutes" in form.errors


def test_a_stored_interval_is_shown_in_minutes_and_saved_back_unchanged(tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    conn.interval_seconds = 90
    conn.save()
    form = connection_form("tcn")(instance=conn)
    assert form.initial["interval_minutes"] == pytest.approx(1.5)
    assert 'value="1.50"' in form.as_p() or 'value="1.5"' in form.as_p()
    data = tcn_data(tenant_a, realtime_access_token="", interval_minutes="1.5")
    form = connection_form("tcn")(data=data, instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    assert VendorConnection.objects.get(pk=conn.pk).interval_seconds == 90


@pytest.mark.parametrize("zone", zones.GUIDE_ZONES)
def test_every_time_zone_of_the_tcn_guide_is_accepted(tenant_a, zone):
    form = connection_form("tcn")(data=tcn_data(tenant_a, time_zone=zone))
    assert form.is_valid(), form.errors
    conn = form.save()
    assert conn.connection_settings().zone.key == conn.time_zone


def test_canada_east_saskatchewan_is_stored_as_america_regina(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, time_zone="Canada/East-Saskatchewan"))
    assert form.is_valid(), form.errors
    assert VendorConnection.objects.get(pk=form.save().pk).time_zone == "America/Regina"


def test_an_alias_zoneinfo_knows_is_kept_as_typed(tenant_a):
    form = connection_form("tcn")(data=tcn_data(tenant_a, time_zone="Canada/Saskatchewan"))
    assert form.is_valid(), form.errors
    assert form.save().time_zone == "Canada/Saskatchewan"


def test_other_vendors_do_not_take_tcns_aliases(tenant_a):
    form = connection_form("8x8")(data=eight_data(tenant_a, time_zone="Canada/East-Saskatchewan"))
    assert not form.is_valid()
    assert "unknown time zone 'Canada/East-Saskatchewan'" in form.errors["time_zone"][0]


def test_without_the_aliases_in_zoneinfo_every_guide_zone_maps_to_a_canonical_zone(monkeypatch):
    # Some platforms' tz data carry no `backward` links at all.
    known = zones._known()
    canonical_only = frozenset(z for z in known if z not in zones.ALIASES)
    monkeypatch.setattr(zones, "_known", lambda: canonical_only)
    for zone in zones.GUIDE_ZONES:
        assert zones.canonical(zone) in known, zone
    assert zones.canonical("America/Indianapolis") == "America/Indiana/Indianapolis"
    assert zones.canonical("Mexico/BajaNorte") == "America/Tijuana"
    assert zones.canonical("Mars/Olympus") == "Mars/Olympus"

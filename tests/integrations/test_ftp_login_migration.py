"""Migration 0002 gives existing TCN connections their unique FTP login column.

Where two connections already shared a login (the lock-out of before), the older keeps it
and the newer is left without one, instead of the migration failing on the constraint.
"""

from __future__ import annotations

import pytest

from tests.migrationkit import latest_schema_after, migrate  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("latest_schema_after")]

BEFORE = [("integrations", "0001_initial")]
AFTER = [("integrations", "0002_ftp_logins_unique")]


def test_the_older_connection_keeps_a_shared_login_and_the_newer_loses_it(capsys):
    apps = migrate(BEFORE)
    Tenant = apps.get_model("integrations", "Tenant")
    Connection = apps.get_model("integrations", "VendorConnection")
    acme = Tenant.objects.create(name="Acme", slug="acme")
    bolt = Tenant.objects.create(name="Bolt", slug="bolt")
    common = {"vendor": "tcn", "realtime_base_url": "https://api.tcn3.com/", "interval_seconds": 900}
    victim = Connection.objects.create(tenant=bolt, name="tcn", time_zone="UTC", **common)
    thief = Connection.objects.create(
        tenant=acme, name="tcn", time_zone="UTC", history_values={"ftp_username": "Bolt.TCN"}, **common
    )
    plain = Connection.objects.create(tenant=acme, name="other", time_zone="UTC", **common)
    apps = migrate(AFTER)
    Connection = apps.get_model("integrations", "VendorConnection")
    logins = dict(Connection.objects.values_list("pk", "ftp_login"))
    assert logins == {victim.pk: "bolt.tcn", thief.pk: None, plain.pk: "acme.other"}
    assert "acme/tcn: FTP login 'bolt.tcn' is already another connection's" in capsys.readouterr().out

"""Migration 0002 gives existing TCN connections their unique FTP login column.

Where two connections already shared a login (the lock-out of before), the older keeps it
and the newer is left without one, instead of the migration failing on the constraint.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("integrations", "0001_initial")]
AFTER = [("integrations", "0002_ftp_logins_unique")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """Leave the schema at the latest migrations: later migrations of either app (and of the
    apps that depend on it) were rolled back by going to BEFORE, and the tests after this
    one need them."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


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

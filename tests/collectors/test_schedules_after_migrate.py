from __future__ import annotations

import pytest
from django.core.management import call_command

from collectors.models import CollectionSchedule
from integrations.models import VendorConnection
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def test_migrate_gives_connections_written_without_save_their_schedules(tenant_a):
    template = make_connection(tenant_a, "8x8", "template")
    clone = VendorConnection.objects.get(pk=template.pk)
    clone.pk, clone.name = None, "bulk"
    (bulk,) = VendorConnection.objects.bulk_create([clone])  # no post_save signal
    assert not CollectionSchedule.objects.filter(connection=bulk).exists()
    call_command("migrate", verbosity=0)
    streams = set(CollectionSchedule.objects.filter(connection=bulk).values_list("stream", flat=True))
    assert streams == {"volume", "agent_states", "config"}


def test_migrate_brings_intervals_in_step_with_a_changed_setting(tenant_a, settings):
    conn = make_connection(tenant_a, "8x8", "eight")
    settings.COLLECT_CONFIG_INTERVAL_SECONDS = 7200
    call_command("migrate", verbosity=0)
    assert CollectionSchedule.objects.get(connection=conn, stream="config").interval_seconds == 7200

"""Configuration import: upserts agents, queues and memberships; deactivates, never deletes."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.config_import import import_config
from collectors.models import Agent, AgentQueue, CollectionRun, Queue
from collectors.runs import run_collection
from integrations.vendors.errors import DataError
from integrations.vendors.records import AgentRecord, ConfigSnapshot, MembershipRecord, QueueRecord
from tests.collectors.enginekit import T0, schedule_of

pytestmark = pytest.mark.django_db
LATER = T0 + td(hours=1)


def snapshot(
    agents=(("a1", "Ann", ""), ("a2", "Bob", "B")),
    queues=(("sales", "Sales"),),
    members=(("a1", "sales"),),
    complete=True,
):
    return ConfigSnapshot(
        queues=[QueueRecord(*q) for q in queues],
        agents=[AgentRecord(*a) for a in agents],
        memberships=[MembershipRecord(*m) for m in members],
        memberships_complete=complete,
    )


def test_the_first_import_adds_everything(eight):
    counts = import_config(eight, snapshot(), T0)
    assert (counts.added, counts.changed, counts.deactivated) == (4, 0, 0)
    assert Agent.objects.get(vendor_id="a2").group == "B"
    assert AgentQueue.objects.get().queue.vendor_id == "sales"


def test_importing_the_same_snapshot_again_changes_nothing_but_last_seen(eight):
    import_config(eight, snapshot(), T0)
    counts = import_config(eight, snapshot(), LATER)
    assert (counts.added, counts.changed, counts.deactivated) == (0, 0, 0)
    assert set(Agent.objects.values_list("last_seen", flat=True)) == {LATER}
    assert set(Agent.objects.values_list("first_seen", flat=True)) == {T0}


def test_renames_count_as_changed(eight):
    import_config(eight, snapshot(), T0)
    counts = import_config(
        eight,
        snapshot(agents=(("a1", "Ann Lee", ""), ("a2", "Bob", "B")), queues=(("sales", "Sales US"),)),
        LATER,
    )
    assert (counts.added, counts.changed) == (0, 2)
    assert Agent.objects.get(vendor_id="a1").name == "Ann Lee"


def test_what_is_no_longer_returned_is_deactivated_not_deleted_and_comes_back_active(eight):
    import_config(eight, snapshot(), T0)
    counts = import_config(eight, snapshot(agents=(("a2", "Bob", "B"),), members=()), LATER)
    assert counts.deactivated == 2  # agent a1 and its membership
    assert not Agent.objects.get(vendor_id="a1").active
    assert not AgentQueue.objects.get().active
    assert Agent.objects.count() == 2
    counts = import_config(eight, snapshot(), LATER + td(hours=1))
    assert (counts.added, counts.changed) == (0, 2)
    assert Agent.objects.get(vendor_id="a1").active and AgentQueue.objects.get().active


def test_memberships_are_not_deactivated_when_the_vendor_cannot_list_them_all(eight):
    import_config(eight, snapshot(), T0)
    counts = import_config(eight, snapshot(members=(), complete=False), LATER)
    assert counts.deactivated == 0
    assert AgentQueue.objects.get().active
    assert "none were deactivated" in counts.notes[-1]


def test_a_membership_naming_an_unlisted_queue_creates_it(eight):
    counts = import_config(eight, snapshot(members=(("a1", "sales"), ("a1", "vip"))), T0)
    assert Queue.objects.filter(vendor_id="vip").exists()
    assert counts.added == 6


def test_an_empty_configuration_is_refused_rather_than_deactivating_everyone(eight):
    import_config(eight, snapshot(), T0)
    with pytest.raises(DataError, match="refusing to deactivate 3 rows"):
        import_config(eight, snapshot(agents=(), queues=(), members=()), LATER)


def test_a_config_run_records_its_counts(eight, fake):
    run = run_collection(schedule_of(eight, "config"), now=T0).run
    assert run.status == CollectionRun.OK
    assert (run.rows_created, run.rows_updated, run.rows_deactivated) == (6, 0, 0)
    assert "agents: 2 added" in run.notes
    fake.config.agents.pop()
    fake.config.memberships.pop()
    run = run_collection(schedule_of(eight, "config"), now=LATER).run
    assert (run.rows_created, run.rows_updated, run.rows_deactivated) == (0, 0, 2)

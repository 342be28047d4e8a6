"""Every insert and every real change of a synced row moves its change position; nothing else does.

The positions are set by database triggers, so each write path is tried as it writes: the
interval merge, the agent-state upserts, the configuration import and a plain ORM save.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.agent_states import apply_snapshot
from collectors.config_import import import_config
from collectors.models import Agent, AgentStateEvent, IntervalVolume, Queue
from collectors.writers import upsert_intervals
from integrations.vendors.records import (
    AgentRecord,
    ConfigSnapshot,
    IntervalRecord,
    QueueRecord,
    StateSnapshot,
)
from integrations.vendors.records import AgentStateRecord as S
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db
NOW = T0 + td(hours=1)


def position(obj):
    return type(obj).objects.values_list("change_txid", "change_seq").get(pk=obj.pk)


def rec(queue="sales", start=T0, entered=10):
    return IntervalRecord(queue, start, entered, 1, 600)


def test_every_inserted_interval_gets_its_own_position(conn_a):
    upsert_intervals(conn_a, [rec(), rec(start=T0 + td(minutes=15)), rec("support")], NOW)
    positions = list(IntervalVolume.objects.values_list("change_txid", "change_seq"))
    assert len(set(positions)) == 3
    assert all(seq > 0 for _txid, seq in positions)


def test_a_revised_interval_moves_past_every_other_row_and_an_unchanged_one_stays(conn_a):
    upsert_intervals(conn_a, [rec(), rec(start=T0 + td(minutes=15))], NOW)
    first = IntervalVolume.objects.get(interval_start=T0)
    second = IntervalVolume.objects.get(interval_start=T0 + td(minutes=15))
    before = position(first), position(second)

    upsert_intervals(conn_a, [rec(entered=11), rec(start=T0 + td(minutes=15))], NOW + td(minutes=5))

    assert position(second) == before[1]
    assert position(first) > max(before)


def test_closing_a_state_event_later_moves_it(eight):
    snap = StateSnapshot(observed_at=T0, agents=[S("a1", "available")], complete=True, notes=[])
    apply_snapshot(eight, snap, interval_seconds=30)
    opened = AgentStateEvent.objects.get()
    before = position(opened)
    later = StateSnapshot(observed_at=T0 + td(seconds=30), agents=[S("a1", "busy")], complete=True, notes=[])
    apply_snapshot(eight, later, interval_seconds=30)
    assert position(opened) > before
    newest = AgentStateEvent.objects.get(end=None)
    assert position(newest) > before


def test_a_rename_moves_a_queue_but_seeing_it_again_does_not(eight):
    snap = ConfigSnapshot(queues=[QueueRecord("sales", "Sales")], agents=[AgentRecord("a1", "Ann", "")])
    import_config(eight, snap, T0)
    queue, agent = Queue.objects.get(), Agent.objects.get()
    before = position(queue), position(agent)

    import_config(eight, snap, NOW)
    assert (position(queue), position(agent)) == before

    renamed = ConfigSnapshot(
        queues=[QueueRecord("sales", "Sales EMEA")], agents=[AgentRecord("a1", "Ann", "")]
    )
    import_config(eight, renamed, NOW + td(hours=1))
    assert position(queue) > max(before)
    assert position(agent) == before[1]


def test_saving_a_row_read_earlier_does_not_put_its_old_position_back(conn_a):
    upsert_intervals(conn_a, [rec()], NOW)
    stale = IntervalVolume.objects.get()
    upsert_intervals(conn_a, [rec(entered=12)], NOW)
    moved = position(stale)

    stale.collected_at = NOW + td(hours=1)
    stale.entered = 12
    stale.save()
    assert position(stale) == moved

from __future__ import annotations

from datetime import timedelta as td

from integrations.sandbox import traffic as traffic_module
from integrations.sandbox.traffic import Traffic, sandbox_vendor_keys

from .conftest import NOON


def _fingerprint(t: Traffic) -> tuple:
    calls = tuple(
        (c.call_id, c.entered, c.abandoned, c.handle_seconds)
        for vendor in sandbox_vendor_keys()
        for q in t.queues(vendor)
        for c in t.calls_between(vendor, q.id, NOON - td(hours=3), NOON)
    )
    states = tuple(
        t.agent_states_between(vendor, a.id, NOON - td(hours=3), NOON)
        for vendor in sandbox_vendor_keys()
        for a in t.agents(vendor)
    )
    return calls, states


def test_the_same_seed_and_time_give_the_same_traffic():
    first = _fingerprint(Traffic(seed=7))
    # Drop the caches, so the second answer is generated again rather than remembered.
    traffic_module._slot_calls.cache_clear()
    traffic_module._day_schedule.cache_clear()
    assert _fingerprint(Traffic(seed=7)) == first
    assert len(first[0]) > 50


def test_another_seed_gives_other_traffic():
    assert _fingerprint(Traffic(seed=7))[0] != _fingerprint(Traffic(seed=8))[0]


def test_call_ids_are_unique_and_stable_across_windows(traffic):
    day = [
        c for q in traffic.queues("8x8") for c in traffic.calls_between("8x8", q.id, NOON - td(days=1), NOON)
    ]
    ids = [c.call_id for c in day]
    assert len(ids) == len(set(ids))
    # The calls of one hour are the same whether asked for alone or as part of the day.
    hour = traffic.calls_between("8x8", "105", NOON - td(hours=1), NOON)
    assert {c.call_id for c in hour} <= set(ids)
    assert hour == [c for c in day if c.queue_id == "105" and c.entered >= NOON - td(hours=1)]


def test_calls_are_internally_consistent(traffic):
    for q in traffic.queues("nextiva"):
        for call in traffic.calls_between("nextiva", q.id, NOON - td(hours=6), NOON):
            assert call.ended_at >= call.entered
            if call.abandoned:
                assert call.handle_seconds == 0 and call.answered_at is None
            else:
                assert call.handle_seconds == call.talk_seconds + call.wrap_seconds > 0

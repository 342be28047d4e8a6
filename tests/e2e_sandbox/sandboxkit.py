"""What the end-to-end tests share: run the real collection paths, read neutral rows back, and
say what the sandbox's traffic says they should be.

Every expected value comes from `integrations.sandbox.traffic` (the same functions the
sandbox serves from); every actual value went through HTTP to the sandbox thread, the vendor
adapter, the engine and the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from collectors.drops import DUPLICATE, INGESTED, scan_all
from collectors.models import AgentStateEvent, IntervalVolume
from integrations.models import VendorConnection
from integrations.sandbox import drop
from integrations.sandbox.traffic import DOCUMENTED_NEUTRAL, Traffic, sandbox_vendor_keys
from integrations.vendors import get_vendor
from integrations.vendors.base import POLL, STREAM_VOLUME

TENANT = "demo"
ALL_VENDORS = tuple(sandbox_vendor_keys())
# Volume over HTTP; TCN's comes as FTP files.
REST_VOLUME = tuple(v for v in ALL_VENDORS if get_vendor(v).supplies.get(STREAM_VOLUME) == POLL)

Counts = tuple[int, int, int]  # entered, abandoned, handle seconds
Volume = dict[tuple[str, datetime], Counts]


def connection(vendor: str) -> VendorConnection:
    return VendorConnection.objects.get(tenant__slug=TENANT, name=f"{vendor}-demo")


def collect(vendor: str, stream: str, *args: str) -> dict:
    """`manage.py collect demo/<vendor>-demo STREAM ... --json`; the run must be ok."""
    out = StringIO()
    call_command("collect", f"{TENANT}/{vendor}-demo", stream, *args, "--json", stdout=out)
    run = json.loads(out.getvalue())
    assert run["status"] == "ok", run
    return run


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- volume --------------------------------------------------------------------------------


def stored_volume(vendor: str) -> Volume:
    rows = IntervalVolume.objects.filter(connection=connection(vendor)).values_list(
        "queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds"
    )
    return {(q, start.astimezone(UTC)): (e, a, h) for q, start, e, a, h in rows}


def true_volume(
    traffic: Traffic, vendor: str, start: datetime, end: datetime, as_of: datetime | None = None
) -> Volume:
    """Per (queue id, interval start) in [start, end): the sandbox's own numbers."""
    return {
        (t.queue_id, t.interval_start): (t.entered, t.abandoned, t.handle_seconds)
        for t in traffic.interval_truth(vendor, start, end, as_of=as_of)
    }


def between(volume: Volume, start: datetime, end: datetime) -> Volume:
    return {key: value for key, value in volume.items() if start <= key[1] < end}


def drop_and_scan(traffic: Traffic, start: datetime, end: datetime) -> list:
    """The sandbox writes TCN's files for [start, end) into the demo folder; two scans take them.

    The first scan only notes the new files (a file is complete when it is unchanged at the
    next scan); the second ingests them.
    """
    folder = connection("tcn").drop_folder()
    drop.backfill([folder], traffic, start, end)
    assert scan_all() == []
    return scan_all()


def taken(results: list, *, resent: bool = False) -> int:
    """How many files a scan took. Each was ingested, or was a ledger duplicate: an empty file
    (the header alone, byte for byte an earlier empty one) or, when `resent`, any file."""
    header = (",".join(drop.HEADER) + "\r\n").encode()
    for r in results:
        empty = r.status == DUPLICATE and Path(r.moved_to).read_bytes() == header
        assert r.status == INGESTED or empty or (resent and r.status == DUPLICATE), r.as_dict()
    return len(results)


# --- agent states --------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    state: str
    raw_code: str
    start: datetime
    end: datetime | None


def stored_events(vendor: str) -> dict[str, list[Event]]:
    """Every agent's state events, in time order, keyed by the agent's vendor id."""
    out: dict[str, list[Event]] = {}
    rows = (
        AgentStateEvent.objects.filter(connection=connection(vendor))
        .order_by("agent__vendor_id", "start")
        .values_list("agent__vendor_id", "state", "raw_code", "start", "end")
    )
    for agent, state, raw, start, end in rows:
        out.setdefault(agent, []).append(
            Event(state, raw, start.astimezone(UTC), end.astimezone(UTC) if end else None)
        )
    return out


def poll_instants(
    traffic: Traffic, vendor: str, start: datetime, end: datetime, every: int
) -> list[datetime]:
    """Every instant an agent of `vendor` changes state in [start, end), plus a poll each
    `every` seconds so that quiet stretches are polled too (and never look like a gap)."""
    instants = set(traffic.state_changes_between(vendor, start, end))
    t = start
    while t < end:
        instants.add(t)
        t += td(seconds=every)
    return sorted(instants)


def expected_events(traffic: Traffic, vendor: str, agent_id: str, polls: list[datetime]) -> list[Event]:
    """The events polls at `polls` must leave for one agent, from the sandbox's timeline.

    Each vendor state (as the platform shows it) is one event, in the neutral state the
    documents give it. The first starts when the vendor says it began (8x8 `time-in-status`,
    NCC `timestamp`); TCN says nothing of the kind, so there it starts at the first poll, and
    an agent logged out at the first poll has no event until it logs in (TCN lists logged-out
    agents nowhere, and an agent never seen has no state to close).
    """
    first, last = polls[0], polls[-1]
    neutral = DOCUMENTED_NEUTRAL[vendor]
    states = traffic.agent_states_between(vendor, agent_id, first, last + td(seconds=1))
    events: list[Event] = []
    for i, s in enumerate(states):
        start = first if (vendor == "tcn" and i == 0) else s.since
        if vendor == "tcn" and i == 0 and s.code is None:
            continue
        events.append(Event(neutral[s.code], "" if s.code is None else str(s.code), start, None))
    # Each event ends where the next begins; the last is open.
    return [
        Event(e.state, e.raw_code, e.start, events[i + 1].start if i + 1 < len(events) else None)
        for i, e in enumerate(events)
    ]

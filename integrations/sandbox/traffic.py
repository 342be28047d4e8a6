"""Deterministic synthetic contact-center traffic: pure functions of (seed, vendor, time).

Every number the sandbox serves comes from here, and so does every *expected* value a test
compares neutral rows with. Nothing is stored: a call or an agent's day is regenerated from a
`random.Random` seeded with a string naming it (string seeds hash with SHA-512, so they are the
same on every run and platform). Generation is cached per 15-minute slot and per agent-day.

- Calls: per queue and UTC 15-minute slot, a Poisson count whose mean follows a daily curve in
  the tenant's zone (quiet at night, a peak around noon, quieter at weekends).
- Agents: one shift per local day (the last four of every roster are a night crew working
  evenings and nights without days off, so somebody is on shift at any hour), cycling
  available → offered → busy → wrap-up with breaks, a lunch, the odd missed call and some
  offline work, logged out between shifts.

Activities are vendor-neutral here; `VENDOR_STATES` says how each platform shows them, and
`agent_state_at` / `agent_states_between` give the truth in the vendor's own codes.
"""

from __future__ import annotations

import hashlib
import math
import random
import zoneinfo
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from datetime import timedelta as td
from functools import lru_cache

from integrations.sandbox.vendors import ByVendor, sandbox_vendors

SLOT = td(minutes=15)
DEFAULT_ZONE = "America/Chicago"
DEFAULT_SEED = "switchboard"

# Longest a call can last from entry to the end of wrap-up: after this an interval is final.
MAX_WAIT_SECONDS = 120
MAX_TALK_SECONDS = 1200
MAX_WRAP_SECONDS = 120
MAX_CALL_SECONDS = MAX_WAIT_SECONDS + MAX_TALK_SECONDS + MAX_WRAP_SECONDS

# What an agent does, independent of any platform.
LOGIN, AVAILABLE, OFFERED, BUSY = "login", "available", "offered", "busy"
WRAP, NO_ANSWER = "wrap", "no_answer"
BREAK, LUNCH, OFFLINE, LOGGED_OUT = "break", "lunch", "offline", "logged_out"
ACTIVITIES = (LOGIN, AVAILABLE, OFFERED, BUSY, WRAP, NO_ANSWER, BREAK, LUNCH, OFFLINE, LOGGED_OUT)

# How each platform shows an activity and what its documents say each code means: declared by
# the platform's simulation (`integrations.sandbox.vendors.SandboxVendor`), read through the
# vendor registry. Consecutive activities showing the same code are one state on that
# platform (a poll cannot tell them apart).
VENDOR_STATES: Mapping[str, Mapping[str, object]] = ByVendor(lambda spec: spec.states)
DOCUMENTED_NEUTRAL: Mapping[str, Mapping[object, str]] = ByVendor(lambda spec: spec.documented_neutral)


@dataclass(frozen=True)
class Queue:
    id: str
    name: str
    peak_per_slot: float  # mean calls per 15 minutes at the daily peak
    sid: str = ""  # TCN hunt group sid


@dataclass(frozen=True)
class Agent:
    id: str
    first_name: str
    last_name: str
    login: str
    group: str
    queue_ids: tuple[str, ...]
    shift_start: int  # minutes after local midnight
    shift_minutes: int = 510

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Skill:
    id: str
    name: str


@dataclass(frozen=True)
class Call:
    call_id: str
    queue_id: str
    entered: datetime  # UTC, millisecond precision
    wait_seconds: int
    abandoned: bool
    talk_seconds: int
    wrap_seconds: int

    @property
    def answered_at(self) -> datetime | None:
        return None if self.abandoned else self.entered + td(seconds=self.wait_seconds)

    @property
    def abandoned_at(self) -> datetime | None:
        return self.entered + td(seconds=self.wait_seconds) if self.abandoned else None

    @property
    def handle_seconds(self) -> int:
        return 0 if self.abandoned else self.talk_seconds + self.wrap_seconds

    @property
    def ended_at(self) -> datetime:
        return self.entered + td(seconds=self.wait_seconds + self.handle_seconds)


@dataclass(frozen=True)
class IntervalTruth:
    queue_id: str
    queue_name: str
    interval_start: datetime
    entered: int
    abandoned: int
    handle_seconds: int


@dataclass(frozen=True)
class AgentState:
    """An agent's state on one platform (the vendor's own code) and when it began."""

    code: object
    since: datetime


@dataclass(frozen=True)
class Roster:
    queues: tuple[Queue, ...]
    agents: tuple[Agent, ...]
    skills: tuple[Skill, ...] = ()


_FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kira",
    "Luis",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zoe",
)
_LAST = (
    "Alvarez",
    "Brooks",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
)


def hex_id(*parts: object) -> str:
    """A stable 24-hex-digit id, like the platform's Mongo-style `_id`s."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


# The night crew: the last agents of every roster work ten hours from these local hours,
# without days off. The day shifts (06:00-11:00 starts, 8.5 hours) end by about 19:30; with
# the crew somebody is on shift at every moment of the year, usually two or more, and the
# states change within every hour, so a demo started at any hour sees agents working.
NIGHT_CREW_STARTS = (13, 17, 21, 2)
NIGHT_SHIFT_MINUTES = 600
DAY_SHIFT_STARTS = range(6 * 60, 11 * 60)


def _shift_start(i: int, n: int) -> int:
    night = i - (n - len(NIGHT_CREW_STARTS))
    if night >= 0:
        return NIGHT_CREW_STARTS[night] * 60
    return DAY_SHIFT_STARTS.start + (i * 47) % len(DAY_SHIFT_STARTS)


def on_night_crew(agent: Agent) -> bool:
    return agent.shift_start not in DAY_SHIFT_STARTS


# (agent number, login, primary queue) -> (the platform's agent id, its group).
AgentIds = Callable[[int, str, "Queue"], tuple[str, str]]


def agents(
    vendor: str, n: int, queues: tuple[Queue, ...], offset: int, ids: AgentIds | None = None
) -> tuple[Agent, ...]:
    """`n` agents of a platform, each in two queues; `ids` gives the platform's id style
    (default: Mongo-style hex ids and no group)."""
    out = []
    for i in range(n):
        first, last = _FIRST[(i + offset) % len(_FIRST)], _LAST[(i * 7 + offset) % len(_LAST)]
        login = f"{first[0]}{last}".lower()
        primary, second = queues[i % len(queues)], queues[(i + 1) % len(queues)]
        agent_id, group = ids(i, login, primary) if ids else (hex_id(vendor, "user", i), "")
        out.append(
            Agent(
                id=agent_id,
                first_name=first,
                last_name=last,
                login=login,
                group=group,
                queue_ids=(primary.id, second.id),
                shift_start=_shift_start(i, n),
                shift_minutes=NIGHT_SHIFT_MINUTES if _shift_start(i, n) not in DAY_SHIFT_STARTS else 510,
            )
        )
    return tuple(out)


# The roster of every simulated platform, from its SandboxVendor declaration.
ROSTERS: Mapping[str, Roster] = ByVendor(lambda spec: spec.roster)


def sandbox_vendor_keys() -> list[str]:
    """The vendors the sandbox simulates, in registry order."""
    return list(sandbox_vendors())


def daily_curve(local_hour: float) -> float:
    """Share of the peak call rate at a local time of day: ~0.06 at night, 1.0 at noon."""
    return 0.06 + 0.94 * math.exp(-(((local_hour - 12.0) / 3.0) ** 2))


def slot_start(t: datetime) -> datetime:
    """The start of the UTC 15-minute interval holding `t`."""
    t = t.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _stable_number(*parts: object, digits: int = 12) -> str:
    value = int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest(), 16)
    return str(10 ** (digits - 1) + value % (9 * 10 ** (digits - 1)))


@lru_cache(maxsize=65536)
def _slot_calls(seed: str, zone: str, vendor: str, queue_id: str, slot: datetime) -> tuple[Call, ...]:
    queue = next(q for q in ROSTERS[vendor].queues if q.id == queue_id)
    label = f"{slot:%Y%m%dT%H%M}Z"
    rng = random.Random(f"{seed}|{vendor}|calls|{queue_id}|{label}")
    local = (slot + SLOT / 2).astimezone(zoneinfo.ZoneInfo(zone))
    share = daily_curve(local.hour + local.minute / 60)
    if local.weekday() >= 5:
        share *= 0.6
    count = _poisson(rng, queue.peak_per_slot * share)
    offsets = sorted(rng.randrange(0, int(SLOT.total_seconds() * 1000)) for _ in range(count))
    calls = []
    for k, ms in enumerate(offsets):
        wait = rng.randint(3, MAX_WAIT_SECONDS)
        # Callers give up more often when the queue is busy.
        abandoned = rng.random() < 0.04 + 0.08 * share
        talk = 0 if abandoned else min(MAX_TALK_SECONDS, 30 + int(rng.expovariate(1 / 240)))
        wrap = 0 if abandoned else rng.randint(5, MAX_WRAP_SECONDS)
        calls.append(
            Call(
                call_id=_stable_number(seed, vendor, queue_id, label, k),
                queue_id=queue_id,
                entered=slot + td(milliseconds=ms),
                wait_seconds=wait,
                abandoned=abandoned,
                talk_seconds=talk,
                wrap_seconds=wrap,
            )
        )
    return tuple(calls)


@lru_cache(maxsize=8192)
def _day_schedule(
    seed: str, zone: str, vendor: str, agent_id: str, day: date
) -> tuple[tuple[datetime, str], ...]:
    """One agent's shift on one local day: (UTC instant, activity) pairs ending with logged_out."""
    agent = next(a for a in ROSTERS[vendor].agents if a.id == agent_id)
    rng = random.Random(f"{seed}|{vendor}|agent|{agent_id}|{day.isoformat()}")
    if rng.random() < 0.08 and not on_night_crew(agent):  # a day off (the night crew covers every night)
        return ()
    local_start = datetime.combine(day, time()) + td(minutes=agent.shift_start + rng.randint(-15, 15))
    start = local_start.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)
    start = start.replace(second=rng.randint(0, 59))
    end = start + td(minutes=agent.shift_minutes)
    pauses = [
        (start + td(minutes=120 + rng.randint(-20, 20)), BREAK, 15 * 60),
        (start + td(minutes=240 + rng.randint(-20, 20)), LUNCH, 30 * 60),
        (start + td(minutes=390 + rng.randint(-20, 20)), BREAK, 15 * 60),
    ]
    out: list[tuple[datetime, str]] = []
    t = start

    def emit(activity: str, seconds: int) -> bool:
        nonlocal t
        out.append((t, activity))
        t += td(seconds=seconds)
        return t < end

    if emit(LOGIN, rng.randint(5, 60)):
        while True:
            if pauses and t >= pauses[0][0]:
                _when, activity, seconds = pauses.pop(0)
                if not emit(activity, seconds):
                    break
                continue
            r = rng.random()
            if r < 0.04:
                more = emit(OFFLINE, rng.randint(300, 1200))
            elif r < 0.10:
                more = emit(AVAILABLE, rng.randint(15, 300)) and emit(OFFERED, rng.randint(5, 15))
                more = more and emit(NO_ANSWER, rng.randint(5, 30))
            else:
                more = emit(AVAILABLE, rng.randint(15, 300)) and emit(OFFERED, rng.randint(3, 12))
                more = more and emit(BUSY, rng.randint(60, 720)) and emit(WRAP, rng.randint(10, 120))
            if not more:
                break
    out.append((end, LOGGED_OUT))
    return tuple(out)


@lru_cache(maxsize=4096)
def _merged_timeline(
    seed: str, zone: str, vendor: str, agent_id: str, first: date, last: date
) -> tuple[tuple[AgentState, ...], tuple[datetime, ...]]:
    """The agent's vendor-coded changes over local days [first, last], and their instants.

    Cached: a poll asks for every agent's state, and the sandbox must stay cheap next to the
    workers it serves (the end-to-end benchmark runs both on one machine).
    """
    states = VENDOR_STATES[vendor]
    out: list[AgentState] = []
    day = first
    while day <= last:
        for instant, activity in _day_schedule(seed, zone, vendor, agent_id, day):
            code = states[activity]
            if not out or out[-1].code != code:
                out.append(AgentState(code, instant))
        day += td(days=1)
    return tuple(out), tuple(s.since for s in out)


class Traffic:
    """The synthetic tenant behind every platform: one seed, one local zone."""

    def __init__(self, seed: str | int = DEFAULT_SEED, zone: str = DEFAULT_ZONE) -> None:
        zoneinfo.ZoneInfo(zone)  # fail early on a bad zone name
        self.seed = str(seed)
        self.zone = zone

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.zone)

    # -- roster ---------------------------------------------------------------------------
    def roster(self, vendor: str) -> Roster:
        return ROSTERS[vendor]

    def queues(self, vendor: str) -> tuple[Queue, ...]:
        return self.roster(vendor).queues

    def agents(self, vendor: str) -> tuple[Agent, ...]:
        return self.roster(vendor).agents

    def queue(self, vendor: str, queue_id: str) -> Queue | None:
        return next((q for q in self.queues(vendor) if q.id == queue_id), None)

    # -- calls ----------------------------------------------------------------------------
    def calls_in_slot(self, vendor: str, queue_id: str, start: datetime) -> tuple[Call, ...]:
        """Calls that entered `queue_id` in the UTC 15-minute interval starting at `start`."""
        if start != slot_start(start):
            raise ValueError(f"{start.isoformat()} is not on the UTC 15-minute grid")
        self.roster(vendor)
        return _slot_calls(self.seed, self.zone, vendor, queue_id, start.astimezone(UTC))

    def calls_between(self, vendor: str, queue_id: str, start: datetime, end: datetime) -> list[Call]:
        """Calls that entered `queue_id` in [start, end), ordered by entry time."""
        out: list[Call] = []
        slot = slot_start(start)
        while slot < end:
            out.extend(c for c in self.calls_in_slot(vendor, queue_id, slot) if start <= c.entered < end)
            slot += SLOT
        return out

    def interval_truth(
        self, vendor: str, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> list[IntervalTruth]:
        """Per queue and 15-minute interval starting in [start, end): entered, abandoned, handle.

        With `as_of`, only what had happened by then counts (abandons that had happened,
        handle time of calls that had ended): the numbers a platform that revises recent
        intervals would report at that moment. Without it, the final numbers.
        """
        out = []
        slot = slot_start(start)
        if slot < start:
            slot += SLOT
        while slot < end:
            for queue in self.queues(vendor):
                calls = self.calls_in_slot(vendor, queue.id, slot)
                if as_of is not None:
                    abandoned = sum(1 for c in calls if (at := c.abandoned_at) is not None and at <= as_of)
                    handle = sum(c.handle_seconds for c in calls if c.ended_at <= as_of)
                else:
                    abandoned = sum(1 for c in calls if c.abandoned)
                    handle = sum(c.handle_seconds for c in calls)
                out.append(IntervalTruth(queue.id, queue.name, slot, len(calls), abandoned, handle))
            slot += SLOT
        return out

    # -- agents ---------------------------------------------------------------------------
    def _timeline(self, vendor: str, agent_id: str, start: datetime, end: datetime) -> list[AgentState]:
        """Vendor-coded state changes from well before `start` to after `end`, merged."""
        return list(self._cached_timeline(vendor, agent_id, start, end)[0])

    def _cached_timeline(
        self, vendor: str, agent_id: str, start: datetime, end: datetime
    ) -> tuple[tuple[AgentState, ...], tuple[datetime, ...]]:
        if not any(a.id == agent_id for a in self.agents(vendor)):
            raise KeyError(f"unknown {vendor} agent {agent_id!r}")
        first = start.astimezone(self.tz).date() - td(days=3)
        last = end.astimezone(self.tz).date() + td(days=1)
        return _merged_timeline(self.seed, self.zone, vendor, agent_id, first, last)

    def agent_state_at(self, vendor: str, agent_id: str, t: datetime) -> AgentState:
        """The agent's state at instant `t` in the vendor's code, with when it began."""
        timeline, since = self._cached_timeline(vendor, agent_id, t, t)
        i = bisect_right(since, t) - 1
        if i < 0:  # no shift in the last three days: logged out since before we can see
            return AgentState(VENDOR_STATES[vendor][LOGGED_OUT], t - td(days=3))
        return timeline[i]

    def agent_states_between(
        self, vendor: str, agent_id: str, start: datetime, end: datetime
    ) -> list[AgentState]:
        """The state in force at `start`, then every change in (start, end)."""
        first = self.agent_state_at(vendor, agent_id, start)
        changes = [s for s in self._timeline(vendor, agent_id, start, end) if start < s.since < end]
        return [first, *changes]

    def state_changes_between(self, vendor: str, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in [start, end) at which some agent of `vendor` changes state, sorted."""
        instants: set[datetime] = set()
        for agent in self.agents(vendor):
            instants.update(
                s.since for s in self._timeline(vendor, agent.id, start, end) if start <= s.since < end
            )
        return sorted(instants)

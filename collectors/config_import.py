"""Import a vendor's configuration: agents, queues and who is in which queue.

A snapshot is the full list, not a delta: whatever is not in it any more is marked
inactive (never deleted, so its history stays). The counts of added, changed and
deactivated rows go on the run.

A broken answer (an empty 200, a truncated list, a header the parser misread) looks like
a roster that lost most of its people. So an answer that would deactivate more than
COLLECT_CONFIG_DEACTIVATE_SHARE (default 50%) of the active agents, or of the active
queues, is held: the run fails with the counts, nothing changes, and a `ConfigHold` keeps
what it would have deactivated. The next run applies its answer when

* it deactivates at least every agent and queue the held answer did (the same loss, or a
  larger one, seen twice in a row: not a glitch), or
* a manager confirmed the hold (admin) and it deactivates no more than the held answer did.

Any other suspicious answer replaces the hold; an answer that is not suspicious clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from collectors.conf import app_settings
from collectors.models import Agent, AgentQueue, ConfigHold, Queue
from integrations.models import VendorConnection
from integrations.vendors.errors import DataError
from integrations.vendors.records import ConfigSnapshot

BATCH_SIZE = 1000


@dataclass
class ImportCounts:
    added: int = 0
    changed: int = 0
    deactivated: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, added: int, changed: int, deactivated: int) -> None:
        self.added += added
        self.changed += changed
        self.deactivated += deactivated
        self.notes.append(f"{kind}: {added} added, {changed} changed, {deactivated} deactivated")


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), BATCH_SIZE):
        yield ids[i : i + BATCH_SIZE]


def _sync(
    model: type[models.Model],
    existing: dict[object, tuple[int, tuple, bool]],
    wanted: dict[object, tuple],
    fields: tuple[str, ...],
    build: Callable[[object, tuple], models.Model],
    now: datetime,
    deactivate: bool,
) -> tuple[int, int, int]:
    """Create, update, touch and deactivate rows of one kind; return (added, changed, deactivated)."""
    new = [build(key, values) for key, values in wanted.items() if key not in existing]
    model.objects.bulk_create(new, batch_size=BATCH_SIZE, ignore_conflicts=True)
    changed = []
    for key, values in wanted.items():
        if key in existing:
            pk, before, active = existing[key]
            if before != values or not active:
                row = model(pk=pk, active=True, last_seen=now, **dict(zip(fields, values, strict=True)))
                changed.append(row)
    if changed:
        model.objects.bulk_update(changed, [*fields, "active", "last_seen"], batch_size=BATCH_SIZE)
    touched = sorted(existing[key][0] for key in wanted if key in existing)
    for ids in _chunks(touched):
        model.objects.filter(pk__in=ids).update(last_seen=now)
    gone = sorted(pk for key, (pk, _v, active) in existing.items() if active and key not in wanted)
    if deactivate:
        for ids in _chunks(gone):
            model.objects.filter(pk__in=ids).update(active=False)
    return len(new), len(changed), len(gone) if deactivate else 0


@dataclass(frozen=True)
class Deactivation:
    """What an answer would deactivate, against what is active now."""

    agents: frozenset[str]
    queues: frozenset[str]
    active_agents: int
    active_queues: int

    def suspicious(self, share: float) -> bool:
        return len(self.agents) > share * self.active_agents or len(self.queues) > share * self.active_queues

    def covers(self, hold: ConfigHold) -> bool:
        """At least as drastic as the held answer: everything it dropped is still missing."""
        return self.agents >= set(hold.agents) and self.queues >= set(hold.queues)

    def within(self, hold: ConfigHold) -> bool:
        """No more than the held answer dropped."""
        return self.agents <= set(hold.agents) and self.queues <= set(hold.queues)

    def describe(self) -> str:
        return (
            f"{len(self.agents)} of {self.active_agents} active agents and "
            f"{len(self.queues)} of {self.active_queues} active queues"
        )


class SuspiciousConfig(DataError):
    """The answer would deactivate too much of the roster; it is held, nothing changed."""

    def __init__(self, message: str, deactivation: Deactivation) -> None:
        super().__init__(message)
        self.deactivation = deactivation

    def hold(self, connection: VendorConnection, now: datetime) -> ConfigHold:
        """Store the hold (after the import's transaction rolled back); a new answer resets
        any confirmation, which was given for another one."""
        d = self.deactivation
        hold, _ = ConfigHold.objects.update_or_create(
            connection=connection,
            defaults={
                "held_at": now,
                "agents": sorted(d.agents),
                "queues": sorted(d.queues),
                "active_agents": d.active_agents,
                "active_queues": d.active_queues,
                "confirmed_by": None,
                "confirmed_at": None,
            },
        )
        return hold


def judge(connection: VendorConnection, deactivation: Deactivation, counts: ImportCounts) -> None:
    """Let the import go ahead, or raise SuspiciousConfig. Call inside the import's transaction."""
    hold = ConfigHold.objects.filter(connection=connection).select_related("confirmed_by").first()
    share = app_settings.CONFIG_DEACTIVATE_SHARE
    if not deactivation.suspicious(share):
        if hold is not None:
            hold.delete()
            counts.notes.append("an earlier suspicious answer is no longer held: this one is not suspicious")
        return
    if hold is not None and hold.confirmed_at is not None and deactivation.within(hold):
        who = hold.confirmed_by.get_username() if hold.confirmed_by else "a manager"
        counts.notes.append(
            f"applied a held answer confirmed by {who} at {hold.confirmed_at:%Y-%m-%dT%H:%M:%SZ}: "
            f"deactivates {deactivation.describe()}"
        )
        hold.delete()
        return
    if hold is not None and deactivation.covers(hold):
        counts.notes.append(
            f"applied: the answer held at {hold.held_at:%Y-%m-%dT%H:%M:%SZ} repeated (deactivates "
            f"{deactivation.describe()})"
        )
        hold.delete()
        return
    raise SuspiciousConfig(
        f"held as suspicious: the answer would deactivate {deactivation.describe()} "
        f"(more than {share:.0%} of either); nothing was changed. It is applied if the next run "
        "deactivates at least the same agents and queues, or once a manager confirms it "
        "(admin, collection schedules: 'Confirm the held configuration answer')",
        deactivation,
    )


def import_config(connection: VendorConnection, snapshot: ConfigSnapshot, now: datetime) -> ImportCounts:
    """Upsert the snapshot; call inside a transaction."""
    counts = ImportCounts()
    queues = {q.vendor_id: (q.name[:300],) for q in snapshot.queues}
    agents = {a.vendor_id: (a.name[:300], a.group[:200]) for a in snapshot.agents}
    if "" in queues or "" in agents:
        raise DataError("vendor_id is empty for an agent or a queue in the configuration")
    # A membership naming an agent or queue the lists left out still proves it exists.
    for m in snapshot.memberships:
        if not m.agent_vendor_id or not m.queue_vendor_id:
            raise DataError(f"membership {m!r} has an empty vendor id", sample=repr(m))
        queues.setdefault(m.queue_vendor_id, ("",))
        agents.setdefault(m.agent_vendor_id, ("", ""))

    active_now = (
        Queue.objects.filter(connection=connection, active=True).count()
        + Agent.objects.filter(connection=connection, active=True).count()
    )
    if not queues and not agents and active_now:
        # An empty answer is far likelier a vendor glitch than a center with no one in it.
        raise DataError(
            "the configuration came back with no agents and no queues; "
            f"refusing to deactivate {active_now} rows"
        )

    existing_q = {
        vid: (pk, (name,), active)
        for vid, pk, name, active in Queue.objects.filter(connection=connection).values_list(
            "vendor_id", "id", "name", "active"
        )
    }
    existing_a = {
        vid: (pk, (name, group), active)
        for vid, pk, name, group, active in Agent.objects.filter(connection=connection).values_list(
            "vendor_id", "id", "name", "group", "active"
        )
    }
    judge(
        connection,
        Deactivation(
            agents=frozenset(v for v, (_pk, _n, active) in existing_a.items() if active and v not in agents),
            queues=frozenset(v for v, (_pk, _n, active) in existing_q.items() if active and v not in queues),
            active_agents=sum(active for _pk, _n, active in existing_a.values()),
            active_queues=sum(active for _pk, _n, active in existing_q.values()),
        ),
        counts,
    )
    counts.add(
        "queues",
        *_sync(
            Queue,
            existing_q,
            queues,
            ("name",),
            lambda vid, v: Queue(
                connection=connection, vendor_id=vid, name=v[0], first_seen=now, last_seen=now
            ),
            now,
            deactivate=True,
        ),
    )
    counts.add(
        "agents",
        *_sync(
            Agent,
            existing_a,
            agents,
            ("name", "group"),
            lambda vid, v: Agent(
                connection=connection, vendor_id=vid, name=v[0], group=v[1], first_seen=now, last_seen=now
            ),
            now,
            deactivate=True,
        ),
    )

    queue_ids = dict(Queue.objects.filter(connection=connection).values_list("vendor_id", "id"))
    agent_ids = dict(Agent.objects.filter(connection=connection).values_list("vendor_id", "id"))
    wanted = {(agent_ids[m.agent_vendor_id], queue_ids[m.queue_vendor_id]): () for m in snapshot.memberships}
    existing_m = {
        (agent_id, queue_id): (pk, (), active)
        for pk, agent_id, queue_id, active in AgentQueue.objects.filter(
            agent__connection=connection
        ).values_list("id", "agent_id", "queue_id", "active")
    }
    counts.add(
        "memberships",
        *_sync(
            AgentQueue,
            existing_m,
            wanted,
            (),
            lambda key, _v: AgentQueue(agent_id=key[0], queue_id=key[1], first_seen=now, last_seen=now),
            now,
            deactivate=snapshot.memberships_complete,
        ),
    )
    if not snapshot.memberships_complete:
        counts.notes.append("the vendor cannot list every membership: none were deactivated")
    return counts

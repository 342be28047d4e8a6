"""Plain typed records that adapters return and `collectors` writes through the ORM.

Vendor packages build these and nothing else; they never touch a model. Every datetime
here is timezone-aware UTC (adapters convert vendor-local times before building a record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The vendor-neutral agent states every vendor state maps to (docs/data-model.md).
NEUTRAL_STATES = (
    "available",
    "offered",
    "busy",
    "wrap_up",
    "break",
    "work_offline",
    "logged_out",
    "other",
)


@dataclass(frozen=True, slots=True)
class QueueRecord:
    vendor_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AgentRecord:
    vendor_id: str
    name: str
    group: str = ""


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    agent_vendor_id: str
    queue_vendor_id: str


@dataclass(slots=True)
class ConfigSnapshot:
    """Everything a configuration import returned: the full lists, not a delta."""

    queues: list[QueueRecord] = field(default_factory=list)
    agents: list[AgentRecord] = field(default_factory=list)
    memberships: list[MembershipRecord] = field(default_factory=list)
    # Set when the vendor cannot list memberships at all, so the import does not
    # deactivate every membership it merely did not see.
    memberships_complete: bool = True


@dataclass(frozen=True, slots=True)
class IntervalRecord:
    """Contact volume of one queue in one 15-minute interval (start on the UTC grid)."""

    queue_vendor_id: str
    interval_start: datetime
    entered: int
    abandoned: int
    handle_seconds: int
    queue_name: str = ""


@dataclass(frozen=True, slots=True)
class AgentStateRecord:
    """One agent as a real-time snapshot saw it."""

    agent_vendor_id: str
    state: str  # one of NEUTRAL_STATES
    raw_code: str = ""
    raw_label: str = ""
    reason_code: str = ""
    agent_name: str = ""
    # When the vendor says the agent entered this state (if it says so at all).
    since: datetime | None = None


@dataclass(slots=True)
class StateSnapshot:
    """The result of one real-time poll."""

    observed_at: datetime
    agents: list[AgentStateRecord] = field(default_factory=list)
    # False when the vendor reported only counts for some group, so agents missing
    # from `agents` must not be taken as logged out.
    complete: bool = True
    notes: list[str] = field(default_factory=list)

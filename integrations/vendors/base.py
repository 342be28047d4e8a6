"""What every vendor package declares and implements.

A vendor package (`integrations/vendors/<vendor>/`) holds every fact about its platform:
`vendor.py` declares the connection fields and defaults (a `Vendor` subclass), `client.py`
speaks HTTP, `adapter.py` turns payloads into `records`, `states.py` maps state codes.
Shared behaviour lives here and in `http.py`, so a package only fills in hooks.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from integrations.vendors.records import ConfigSnapshot, IntervalRecord, StateSnapshot

# The two sections of every connection, as the seeds' configuration pages show them.
REALTIME = "realtime"
HISTORY = "history"
SECTIONS = (REALTIME, HISTORY)

# Streams a connection may have (CollectionSchedule.stream uses these values).
STREAM_VOLUME = "volume"
STREAM_AGENT_STATES = "agent_states"
STREAM_CONFIG = "config"
STREAM_FILE_DROP = "file_drop"


@dataclass(frozen=True)
class Field:
    """One per-vendor credential or option shown in the admin form and the YAML file."""

    name: str
    label: str
    secret: bool = False
    required: bool = True
    help_text: str = ""
    default: str = ""
    # Only account managers (superusers) see and set it; for everyone else a form leaves
    # the stored value alone (the TCN drop folder path).
    staff_only: bool = False


@dataclass(frozen=True)
class Section:
    """Plain settings of one section, handed to an adapter (never a model instance)."""

    base_url: str
    values: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # values may hold secrets
        return f"Section(base_url={self.base_url!r}, fields={sorted(self.values)!r})"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything an adapter may know about a connection."""

    key: str  # "tenant-slug/connection-name", for messages and cache keys
    vendor: str
    realtime: Section
    history: Section
    time_zone: str = "UTC"
    interval_seconds: int = 900
    options: dict[str, object] = field(default_factory=dict)
    state_map: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Vendor:
    """Declarative description of a platform; subclasses set the class attributes."""

    key: ClassVar[str]
    label: ClassVar[str]
    # Fields per section, in form order. The history section falls back to the
    # real-time values where left blank.
    realtime_fields: ClassVar[tuple[Field, ...]] = ()
    history_fields: ClassVar[tuple[Field, ...]] = ()
    default_interval_seconds: ClassVar[int] = 30
    default_time_zone: ClassVar[str] = "UTC"
    default_base_url: ClassVar[str] = ""
    streams: ClassVar[tuple[str, ...]] = (STREAM_VOLUME, STREAM_AGENT_STATES, STREAM_CONFIG)
    # How long the vendor keeps filling in recent history (8x8 leaves handle times empty
    # for a while). The engine re-reads that span every run and never moves its cursor
    # into it, so a provisional interval is always collected again once it settles.
    volume_settle_seconds: ClassVar[int] = 0
    # Non-secret per-connection options with their defaults (e.g. endpoint paths).
    default_options: ClassVar[dict[str, object]] = {}
    # The unit the vendor's own configuration page uses for the transaction collection
    # interval; forms ask in it, the connection stores seconds either way.
    interval_unit_seconds: ClassVar[int] = 1
    # The names its payload fields have unless a connection's `options["field_map"]` renames
    # them (key -> vendor field name); empty for a vendor whose payloads are fixed.
    default_field_map: ClassVar[dict[str, str]] = {}
    adapter_path: ClassVar[str]

    @classmethod
    def fields(cls, section: str) -> tuple[Field, ...]:
        return cls.realtime_fields if section == REALTIME else cls.history_fields

    @classmethod
    def secret_names(cls, section: str) -> set[str]:
        return {f.name for f in cls.fields(section) if f.secret}

    @classmethod
    def validate_values(cls, section: str, values: dict[str, str]) -> dict[str, str]:
        """Vendor-specific checks of a section's values: {field name: message}."""
        return {}

    @classmethod
    def canonical_time_zone(cls, name: str) -> str:
        """The zone name to store for one a user typed (a vendor may accept old aliases)."""
        return name

    @classmethod
    def adapter(cls, settings: ConnectionSettings) -> Adapter:
        from django.utils.module_loading import import_string

        return import_string(cls.adapter_path)(settings)


class Adapter:
    """Turns vendor payloads into neutral records. Raises only `errors.*`."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    def check(self) -> list[str]:
        """Verify credentials and reachability; return what was checked (raise on failure)."""
        raise NotImplementedError

    def fetch_config(self) -> ConfigSnapshot:
        raise NotImplementedError

    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        raise NotImplementedError

    def fetch_volume(self, start: datetime, end: datetime) -> list[IntervalRecord]:
        """Closed 15-minute intervals with start in [start, end), both on the UTC grid."""
        raise NotImplementedError

"""What every vendor package declares and implements.

A vendor package (`integrations/vendors/<vendor>/`) holds every fact about its platform:
`vendor.py` declares the connection fields and defaults, what it supplies and by which
transport (a `Vendor` subclass), `client.py` speaks HTTP, `adapter.py` turns payloads into
`records`, `states.py` maps state codes; a vendor that drops files names its
`filereader.FileReader`, and a vendor the sandbox simulates names its `SandboxVendor`.
Shared behaviour lives here and in `http.py`, so a package only fills in hooks. Adding a
vendor is that package and one line in the registry (`integrations/vendors/__init__.py`).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from integrations.vendors.filereader import FileReader
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

# How a vendor delivers a kind of data. POLL: the engine asks the vendor's REST API on a
# schedule (the adapter's fetch_* methods). FILE: the vendor drops files (into a folder or
# through the FTP receiver) that its file reader turns into neutral records; the file-drop
# transport carries intervals only, under the STREAM_FILE_DROP schedule.
POLL = "poll"
FILE = "file"
TRANSPORTS = (POLL, FILE)


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
    # What the vendor supplies and by which transport: neutral data (STREAM_VOLUME,
    # STREAM_AGENT_STATES, STREAM_CONFIG) to POLL or FILE.
    supplies: ClassVar[dict[str, str]] = {
        STREAM_VOLUME: POLL,
        STREAM_AGENT_STATES: POLL,
        STREAM_CONFIG: POLL,
    }
    # The schedule streams, derived from `supplies` (see __init_subclass__): a polled kind
    # under its own key, intervals delivered as files under STREAM_FILE_DROP.
    streams: ClassVar[tuple[str, ...]] = (STREAM_VOLUME, STREAM_AGENT_STATES, STREAM_CONFIG)
    # How long the vendor keeps filling in recent history (8x8 leaves handle times empty
    # for a while). The engine re-reads that span every run and never moves its cursor
    # into it, so a provisional interval is always collected again once it settles.
    volume_settle_seconds: ClassVar[int] = 0
    # The longest window of history one request may ask for, in days. A backfill and a
    # `collect --start --end` window are split into chunks no longer than this (a connection
    # may override it: `VendorConnection.max_request_days`). One day unless the vendor
    # declares more: a vendor that says nothing gets small, safe requests.
    max_request_days: ClassVar[int] = 1
    # Non-secret per-connection options with their defaults (e.g. endpoint paths).
    default_options: ClassVar[dict[str, object]] = {}
    # The unit the vendor's own configuration page uses for the transaction collection
    # interval; forms ask in it, the connection stores seconds either way.
    interval_unit_seconds: ClassVar[int] = 1
    # The names its payload fields have unless a connection's `options["field_map"]` renames
    # them (key -> vendor field name); empty for a vendor whose payloads are fixed.
    default_field_map: ClassVar[dict[str, str]] = {}
    adapter_path: ClassVar[str]
    # A vendor that supplies anything by FILE: its `filereader.FileReader` subclass (dotted path).
    file_reader_path: ClassVar[str] = ""
    # The vendor's simulated API for the sandbox (`integrations.sandbox.base.SandboxVendor`);
    # a vendor without one is not served by the sandbox.
    sandbox_path: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "streams" not in cls.__dict__:
            cls.streams = tuple(
                STREAM_FILE_DROP if transport == FILE else kind for kind, transport in cls.supplies.items()
            )

    @classmethod
    def transport(cls, stream: str) -> str:
        """How a schedule stream's data arrives: FILE for the file drop, POLL otherwise."""
        return FILE if stream == STREAM_FILE_DROP else POLL

    @classmethod
    def problems(cls) -> list[str]:
        """What is wrong with the declaration (the system check reports it)."""
        found = []
        if not getattr(cls, "key", "") or not getattr(cls, "label", ""):
            found.append("declares no key or no label")
        for kind, transport in cls.supplies.items():
            # Whether `kind` is a registered stream is the stream registry's check
            # (collectors.checks): integrations never imports collectors.
            if transport not in TRANSPORTS:
                found.append(f"supplies {kind} by unknown transport {transport!r}")
            elif transport == FILE and kind != STREAM_VOLUME:
                found.append(f"supplies {kind} by file; the file drop carries intervals only")
        if FILE in cls.supplies.values() and not cls.file_reader_path:
            found.append("supplies data by file but names no file_reader_path")
        if not isinstance(cls.max_request_days, int) or cls.max_request_days < 1:
            found.append(
                f"declares max_request_days {cls.max_request_days!r}; "
                "it must be a whole number of days, 1 or more"
            )
        if any(t == POLL for t in cls.supplies.values()) and not getattr(cls, "adapter_path", ""):
            found.append("polls a REST API but names no adapter_path")
        return found

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

    @classmethod
    def file_reader(cls, settings: ConnectionSettings) -> FileReader:
        """The reader of this connection's dropped files (FileConfigError when its options are wrong)."""
        from django.utils.module_loading import import_string

        if not cls.file_reader_path:
            raise TypeError(f"{cls.label} delivers no files")
        return import_string(cls.file_reader_path)(settings)


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

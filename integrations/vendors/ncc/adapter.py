"""Nextiva Contact Center / Thrio payloads to neutral records (one adapter, two vendors).

The WFM integration endpoints (agent states, queue intervals) are not published: every list
may come bare (a JSON array) or in an object under its list key, and the connection's field
map (`options["field_map"]`, defaults in `vendor.Nextiva.default_field_map`) names the fields.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import Any

from django.utils import timezone

from integrations.vendors import base, field_map, get_vendor
from integrations.vendors.errors import DataError
from integrations.vendors.grid import INTERVAL_SECONDS, floor_interval, require_on_grid
from integrations.vendors.ncc.client import NCCClient
from integrations.vendors.ncc.states import neutral_state
from integrations.vendors.ncc.vendor import DEFAULT_AGENT_STATES_PATH, DEFAULT_VOLUME_PATH
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    MembershipRecord,
    QueueRecord,
    StateSnapshot,
)

ROWS = 100  # the platform's default page size for /data/api/types [CODE]
# A configuration list longer than this (100 a page) is taken as one that never ends.
MAX_PAGES = 500
# Unix time below this many seconds is seconds; above, milliseconds. 1e11 s is the year
# 5138 and 1e11 ms is 1973, so no plausible time is ambiguous.
MILLIS_ABOVE = 100_000_000_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = td(minutes=15)
# Skills share the queue list (AgentQueue covers queues and skills); the prefix keeps a skill
# id from ever colliding with a queue id.
SKILL_PREFIX = "skill:"


class NCCAdapter(base.Adapter):
    @property
    def label(self) -> str:
        return get_vendor(self.settings.vendor).label

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Payload field names: the vendor's defaults with this connection's field map."""
        vendor = get_vendor(self.settings.vendor)
        return field_map.effective(vendor.default_field_map, self.settings.options, self.label)

    def _client(self, section_name: str) -> NCCClient:
        section = self.settings.realtime if section_name == base.REALTIME else self.settings.history
        vendor = get_vendor(self.settings.vendor)
        return NCCClient(
            f"{self.settings.key}/{section_name}",
            section.base_url,
            vendor.login_name(section_name, section.values),
            section.values.get("password", ""),
            label=vendor.label,
        )

    def _path(self, option: str, default: str) -> str:
        value = self.settings.options.get(option) or default
        # The token goes wherever this path points: keep it a path on the cluster.
        if not isinstance(value, str) or not value.startswith("/") or "//" in value or "?" in value:
            raise DataError(f"{self.label}: option '{option}' must be a path such as {default!r}")
        return value

    def check(self) -> list[str]:
        done = []
        client = self._client(base.REALTIME)
        page = client.config_page("queue", 0, 1)
        _objects(page, self.label, "queue list")
        done.append(f"{self.label} login and configuration API (real-time credentials)")
        _agents(
            client.get_json(self._path("agent_states_path", DEFAULT_AGENT_STATES_PATH)),
            self.label,
            self.names["agent_list"],
        )
        done.append(f"{self.label} agent state endpoint")
        history = self._client(base.HISTORY)
        now = floor_interval(timezone.now().astimezone(UTC))
        start = int((now - td(minutes=15)).timestamp())
        history.get_json(
            self._path("volume_path", DEFAULT_VOLUME_PATH), {"start": start, "end": start + INTERVAL_SECONDS}
        )
        done.append(f"{self.label} interval volume endpoint (history credentials)")
        return done

    # --- configuration -----------------------------------------------------------------
    def fetch_config(self) -> ConfigSnapshot:
        client = self._client(base.REALTIME)
        snapshot = ConfigSnapshot()
        for where, item in self._all(client, "queue"):
            snapshot.queues.append(QueueRecord(_id(item, "_id", where), _name(item, "name", where)))
        for where, item in self._all(client, "skill"):
            snapshot.queues.append(
                QueueRecord(SKILL_PREFIX + _id(item, "_id", where), _name(item, "name", where))
            )
        for where, item in self._all(client, "user"):
            first = _name(item, "firstName", where)
            last = _name(item, "lastName", where)
            name = " ".join(part for part in (first, last) if part) or _name(item, "name", where)
            snapshot.agents.append(AgentRecord(_id(item, "_id", where), name))
        pairs = set()
        for where, item in self._all(client, "userqueue"):
            pairs.add((_id(item, "userId", where), _id(item, "queueId", where)))
        snapshot.memberships = [MembershipRecord(agent, queue) for agent, queue in sorted(pairs)]
        _unique([q.vendor_id for q in snapshot.queues], self.label, "queue/skill '_id'")
        _unique([a.vendor_id for a in snapshot.agents], self.label, "user '_id'")
        return snapshot

    def _all(self, client: NCCClient, kind: str):
        """Every object of a type, following `start`/`rows` paging to `total`."""
        start = 0
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            where = f"{self.label} {kind} list (start={start})"
            page = client.config_page(kind, start, ROWS)
            objects, total = _objects(page, "", where)
            new = 0
            for i, item in enumerate(objects):
                # Pages may overlap when objects are added while we read: skip repeats.
                key = repr(sorted(item.items()))
                if key in seen:
                    continue
                seen.add(key)
                new += 1
                yield f"{where} objects[{i}]", item
            start += len(objects)
            if total is not None and start >= total:
                return
            if len(objects) < ROWS:
                if total is not None:
                    # A short page before the announced total: the answer was cut off, and
                    # importing it would deactivate whoever was on the missing pages.
                    raise DataError(
                        f"{where}: the list ended after {start} of the {total} objects it announced "
                        "(a truncated answer)"
                    )
                return
            if not new:
                raise DataError(f"{where}: a full page of objects already read; the list never ends")
        raise DataError(f"{self.label} {kind} list: more than {MAX_PAGES} pages; the list never ends")

    # --- agent states ------------------------------------------------------------------
    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        now = now.astimezone(UTC)
        client = self._client(base.REALTIME)
        payload = client.get_json(self._path("agent_states_path", DEFAULT_AGENT_STATES_PATH))
        snapshot = StateSnapshot(observed_at=now)
        seen: set[str] = set()
        names = self.names
        id_key, state_key, since_key = names["agent_id"], names["agent_state"], names["state_since"]
        for i, item in enumerate(_agents(payload, self.label, names["agent_list"])):
            where = f"{names['agent_list']}[{i}]"
            agent_id = _id(item, id_key, where, self.label)
            if agent_id in seen:
                raise DataError(f"{self.label} {where}: '{id_key}' {agent_id!r} appears twice")
            seen.add(agent_id)
            if state_key not in item:
                raise field_map.missing(f"{self.label} {where}", state_key, item)
            status = item[state_key]
            if not isinstance(status, str) or not status.strip():
                raise DataError(
                    f"{self.label} {where}: '{state_key}' is {_show(status)}, expected a state name"
                )
            status = status.strip()
            since = None
            if item.get(since_key) is not None:
                since = min(_unix_time(item, since_key, where, self.label, now), now)
            snapshot.agents.append(
                AgentStateRecord(
                    agent_vendor_id=agent_id,
                    state=neutral_state(status, self.settings.state_map),
                    raw_code=status,
                    raw_label=status,
                    since=since,
                )
            )
        return snapshot

    # --- volume ------------------------------------------------------------------------
    def fetch_volume(self, start: datetime, end: datetime) -> list[IntervalRecord]:
        start, end = require_on_grid(start), require_on_grid(end)
        now = timezone.now().astimezone(UTC)
        client = self._client(base.HISTORY)
        payload = client.get_json(
            self._path("volume_path", DEFAULT_VOLUME_PATH),
            {"start": int(start.timestamp()), "end": int(end.timestamp())},
        )
        n = self.names
        key = n["interval_list"]
        items = _list_of_objects(payload, key, f"{self.label} intervals", f"{self.label} {key}")
        out: dict[tuple[str, datetime], IntervalRecord] = {}
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            queue = _id(item, n["queue_id"], where, self.label)
            at = _unix_time(item, n["interval_start"], where, self.label, now)
            if int(at.timestamp()) % INTERVAL_SECONDS or at.microsecond:
                raise DataError(
                    f"{self.label} {where}: '{n['interval_start']}' {item[n['interval_start']]!r} "
                    f"({at:%Y-%m-%d %H:%M:%S} UTC) is not on the 15-minute grid"
                )
            record = IntervalRecord(
                queue_vendor_id=queue,
                interval_start=at,
                entered=_count(item, n["entered"], where, self.label),
                abandoned=_count(item, n["abandoned"], where, self.label),
                handle_seconds=_count(item, n["handle_seconds"], where, self.label, duration=True),
                queue_name=_name(item, n["queue_name"], where, self.label),
            )
            if (queue, at) in out:
                raise DataError(
                    f"{self.label} {where}: queue {queue!r} at {at:%Y-%m-%d %H:%M} UTC appears twice"
                )
            if start <= at < end and at + td(seconds=INTERVAL_SECONDS) <= now:
                out[(queue, at)] = record
        return sorted(out.values(), key=lambda r: (r.interval_start, r.queue_vendor_id))


# --- payload checks -----------------------------------------------------------------------
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _list_of_objects(payload: Any, key: str, prefix: str, item_label: str) -> list[dict[str, Any]]:
    """A bare JSON array, or `payload[key]`, as a list of JSON objects; else a DataError
    naming what is wrong."""
    if isinstance(payload, list):
        items = payload
    elif not isinstance(payload, dict):
        raise DataError(f"{prefix}: expected a JSON object or array, got {type(payload).__name__}")
    elif key not in payload:
        raise field_map.missing(prefix, key, payload)
    else:
        items = payload[key]
    if not isinstance(items, list):
        raise DataError(f"{prefix}: '{key}' is {type(items).__name__}, expected a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DataError(f"{item_label}[{i}]: expected an object, got {type(item).__name__}")
    return items


def _objects(page: Any, label: str, where: str) -> tuple[list[dict[str, Any]], int | None]:
    prefix = f"{label} {where}".strip()
    objects = _list_of_objects(page, "objects", prefix, f"{prefix} objects")
    total = page.get("total") if isinstance(page, dict) else None
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise DataError(f"{prefix}: 'total' is {_show(total)}, expected a count")
    return objects, total


def _agents(payload: Any, label: str, key: str) -> list[dict[str, Any]]:
    return _list_of_objects(payload, key, f"{label} agent states", f"{label} {key}")


def _id(item: dict[str, Any], key: str, where: str, label: str = "") -> str:
    prefix = f"{label} {where}".strip()
    if key not in item:
        raise field_map.missing(prefix, key, item)
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DataError(f"{prefix}: '{key}' is {_show(value)}, expected an identifier")
    return str(value).strip()


def _name(item: dict[str, Any], key: str, where: str, label: str = "") -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataError(f"{label} {where}: '{key}' is {_show(value)}, expected text".strip())
    return value.strip()


def _count(item: dict[str, Any], key: str, where: str, label: str, *, duration: bool = False) -> int:
    """A whole, non-negative count. A fractional count is refused, never rounded: 2.5 calls
    is a broken answer. A duration (seconds) may carry a fraction, rounded to the second."""
    if key not in item:
        raise field_map.missing(f"{label} {where}", key, item)
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(f"{label} {where}: '{key}' is {_show(value)}, expected a number")
    if value < 0:
        raise DataError(f"{label} {where}: '{key}' is {value}, a negative count")
    if not duration and not float(value).is_integer():
        raise DataError(f"{label} {where}: '{key}' is {value}, a fractional count (counts are whole numbers)")
    return round(value)


def _unix_time(item: dict[str, Any], key: str, where: str, label: str, now: datetime) -> datetime:
    """Unix seconds or milliseconds (the seeds say Unix time; workitems use ms [DOC])."""
    if key not in item:
        raise field_map.missing(f"{label} {where}", key, item)
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(f"{label} {where}: '{key}' is {_show(value)}, expected Unix time")
    seconds = value / 1000 if abs(value) > MILLIS_ABOVE else value
    if seconds < EARLIEST.timestamp():
        raise DataError(f"{label} {where}: '{key}' is {value}, before the year 2000")
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    if moment > now + FUTURE_TOLERANCE:
        raise DataError(f"{label} {where}: '{key}' is {value} ({moment:%Y-%m-%d %H:%M} UTC), in the future")
    return moment


def _unique(ids: list[str], label: str, what: str) -> None:
    seen: set[str] = set()
    for vendor_id in ids:
        if vendor_id in seen:
            raise DataError(f"{label}: {what} {vendor_id!r} appears twice")
        seen.add(vendor_id)

"""8x8 payloads to neutral records.

Agent states and configuration come from the real-time (rtstats) lists. Volume per 15-minute
interval is built from the per-queue interaction records of the Statistics Reporting API,
because that API aggregates its own statistics into 30-minute periods [DOC].

Field names come from the connection's field map (defaults in `fields.py`), and every list may
come bare (a JSON array) or in its object.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import defaultdict
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import Any

from django.utils import timezone

from integrations.vendors import base, field_map
from integrations.vendors.eightbyeight.client import PAGE_SIZE, EightByEightClient
from integrations.vendors.eightbyeight.states import neutral_state
from integrations.vendors.errors import DataError
from integrations.vendors.grid import INTERVAL, floor_interval, require_on_grid
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    QueueRecord,
    StateSnapshot,
)

logger = logging.getLogger(__name__)

# A queue whose interaction list has not ended after this many pages is taken as a server
# that never ends the list (50 records a page: 50,000 interactions per queue and request).
MAX_PAGES = 1000
# Interaction columns such as processtime stay empty for about an hour after acceptance [DOC].
# Records that entered the queue within this window and still lack them are "not yet final".
LAG_WINDOW = td(hours=3)
# Vendor clocks drift a little; anything later than this past our clock is a bad timestamp.
FUTURE_TOLERANCE = td(minutes=15)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME_IN_STATUS = 400 * 86400


class EightByEightAdapter(base.Adapter):
    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Payload field names: the defaults with this connection's field map."""
        from integrations.vendors.eightbyeight.vendor import EightByEight

        return field_map.effective(EightByEight.default_field_map, self.settings.options, "8x8")

    # --- clients -----------------------------------------------------------------------
    def _client(self, section: base.Section) -> EightByEightClient:
        values = section.values
        return EightByEightClient(section.base_url, values.get("tenant", ""), values.get("token", ""))

    def check(self) -> list[str]:
        done = []
        realtime = self._client(self.settings.realtime)
        n = self.names
        agents = _agent_items(realtime.agents(), n)
        done.append(f"8x8 real-time statistics: {len(agents)} agent(s) listed")
        history = self._client(self.settings.history)
        queues = _queue_items(history.queues(), "queues.json", n)
        done.append(f"8x8 queue list (history credentials): {len(queues)} queue(s)")
        if queues:
            today = timezone.now().astimezone(UTC).date()
            qid = _text(queues[0], n["queue_id"], f"queues.json {n['queue_list']}[0]")
            _statistics(history.interactions(qid, today, today, 1), f"interactions of queue {qid}", n)
            done.append(f"8x8 statistics reporting: interactions of queue {qid} readable")
        return done

    # --- configuration -----------------------------------------------------------------
    def fetch_config(self) -> ConfigSnapshot:
        client = self._client(self.settings.realtime)
        snapshot = ConfigSnapshot(memberships_complete=False)  # rtstats lists no memberships
        n = self.names
        for i, item in enumerate(_queue_items(client.queues(), "queues.json", n)):
            where = f"queues.json {n['queue_list']}[{i}]"
            snapshot.queues.append(
                QueueRecord(_text(item, n["queue_id"], where), _optional_text(item, n["queue_name"], where))
            )
        for i, item in enumerate(_agent_items(client.agents(), n)):
            where = f"agents.json {n['agent_list']}[{i}]"
            snapshot.agents.append(
                AgentRecord(
                    _text(item, n["agent_id"], where),
                    _optional_text(item, n["agent_name"], where),
                    _optional_text(item, n["agent_group"], where),
                )
            )
        _no_duplicates([q.vendor_id for q in snapshot.queues], "queues.json", n["queue_id"])
        _no_duplicates([a.vendor_id for a in snapshot.agents], "agents.json", n["agent_id"])
        return snapshot

    # --- agent states ------------------------------------------------------------------
    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        now = now.astimezone(UTC)
        client = self._client(self.settings.realtime)
        snapshot = StateSnapshot(observed_at=now)
        n = self.names
        for i, item in enumerate(_agent_items(client.agents(), n)):
            where = f"agents.json {n['agent_list']}[{i}]"
            agent_id = _text(item, n["agent_id"], where)
            code = _int(item, n["agent_state"], where)
            since = None
            if item.get(n["time_in_state"]) not in (None, ""):
                seconds = _int(item, n["time_in_state"], where)
                if not 0 <= seconds <= MAX_TIME_IN_STATUS:
                    raise DataError(f"8x8 {where}: '{n['time_in_state']}' is {seconds}, not a duration")
                since = now - td(seconds=seconds)
            state, label = neutral_state(code, self.settings.state_map)
            snapshot.agents.append(
                AgentStateRecord(
                    agent_vendor_id=agent_id,
                    state=state,
                    raw_code=str(code),
                    raw_label=label,
                    agent_name=_optional_text(item, n["agent_name"], where),
                    since=since,
                )
            )
        _no_duplicates([a.agent_vendor_id for a in snapshot.agents], "agents.json", n["agent_id"])
        return snapshot

    # --- volume ------------------------------------------------------------------------
    def fetch_volume(self, start: datetime, end: datetime) -> list[IntervalRecord]:
        start, end = require_on_grid(start), require_on_grid(end)
        now = timezone.now().astimezone(UTC)
        # Only closed intervals: one still running would be written with part of its calls.
        last_start = min(end, floor_interval(now)) - INTERVAL
        client = self._client(self.settings.history)
        n = self.names
        queues = []
        for i, item in enumerate(_queue_items(client.queues(), "queues.json", n)):
            where = f"queues.json {n['queue_list']}[{i}]"
            queues.append((_text(item, n["queue_id"], where), _optional_text(item, n["queue_name"], where)))
        _no_duplicates([qid for qid, _ in queues], "queues.json", n["queue_id"])

        # The `d` range is in days of the tenant's zone, which the API does not tell us:
        # ask for one more UTC day on each side and keep the exact interval below.
        first_day = (start - td(days=1)).date()
        last_day = (end - td(microseconds=1) + td(days=1)).date()
        out: list[IntervalRecord] = []
        for qid, name in queues:
            buckets, pending = self._queue_buckets(client, qid, first_day, last_day, start, end, now)
            if pending:
                logger.info(
                    "8x8 queue %s: %d interval(s) left out until 8x8 fills handle times: %s",
                    qid,
                    len(pending),
                    ", ".join(sorted(t.isoformat() for t in pending)),
                )
            t = start
            while t <= last_start:
                if t not in pending:
                    entered, abandoned, handle = buckets.get(t, (0, 0, 0))
                    out.append(IntervalRecord(qid, t, entered, abandoned, handle, queue_name=name))
                t += INTERVAL
        return out

    def _queue_buckets(
        self,
        client: EightByEightClient,
        qid: str,
        first_day,
        last_day,
        start: datetime,
        end: datetime,
        now: datetime,
    ) -> tuple[dict[datetime, tuple[int, int, int]], set[datetime]]:
        """Per interval start: (entered, abandoned, handle seconds); and the intervals that
        hold records 8x8 has not finished yet (left out so a later run's lookback reads them)."""
        sums: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])
        pending: set[datetime] = set()
        seen: set[str] = set()
        offset = 1
        n = self.names
        for _ in range(MAX_PAGES):
            where = f"interactions of queue {qid} (n={offset})"
            items = _statistics(client.interactions(qid, first_day, last_day, offset), where, n)
            new = 0
            for j, item in enumerate(items):
                record = _interaction(item, f"{where} {n['statistic_list']}[{j}]", now, n)
                if record.transaction_id in seen:  # pages may overlap when records arrive
                    continue
                seen.add(record.transaction_id)
                new += 1
                if not start <= record.entered_at < end:
                    continue
                bucket = floor_interval(record.entered_at)
                if record.pending:
                    pending.add(bucket)
                    continue
                row = sums[bucket]
                row[0] += 1
                row[1] += record.abandoned
                row[2] += record.handle_seconds
            if len(items) < PAGE_SIZE:
                return {k: (v[0], v[1], v[2]) for k, v in sums.items()}, pending
            if not new:
                raise DataError(f"8x8 {where}: a full page of records already read; the list never ends")
            offset += len(items)
        raise DataError(
            f"8x8 interactions of queue {qid}: more than {MAX_PAGES} pages of {PAGE_SIZE}; "
            "the list never ends"
        )


# --- payload checks -----------------------------------------------------------------------
class _Interaction:
    __slots__ = ("abandoned", "entered_at", "handle_seconds", "pending", "transaction_id")

    def __init__(
        self, transaction_id: str, entered_at: datetime, abandoned: bool, handle: int, pending: bool
    ) -> None:
        self.transaction_id = transaction_id
        self.entered_at = entered_at
        self.abandoned = abandoned
        self.handle_seconds = handle
        self.pending = pending


def _interaction(item: Any, where: str, now: datetime, n: dict[str, str]) -> _Interaction:
    _object(item, where)
    tid = _text(item, n["call_id"], where)
    millis = _int(item, n["entered_at"], where)
    try:
        entered_at = datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        entered_at = EARLIEST - td(days=1)
    if entered_at < EARLIEST:
        raise DataError(f"8x8 {where}: '{n['entered_at']}' is {millis}, not epoch milliseconds")
    if entered_at > now + FUTURE_TOLERANCE:
        raise DataError(
            f"8x8 {where}: '{n['entered_at']}' is {millis} ({entered_at:%Y-%m-%d %H:%M} UTC), in the future"
        )
    abandoned = _yes_no(item, n["abandoned"], where)
    process = _seconds(item, n["process_seconds"], where)
    post = _seconds(item, n["post_process_seconds"], where)
    pending = False
    handle = 0
    if not abandoned:  # abandoned interactions have no handle time to add
        if process is None or post is None:
            # Empty for about an hour after acceptance [DOC]; long after that, empty means 0.
            pending = entered_at > now - LAG_WINDOW
        handle = (process or 0) + (post or 0)
    return _Interaction(tid, entered_at, abandoned, handle, pending)


def _object(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DataError(f"8x8 {where}: expected an object, got {type(item).__name__}")
    return item


def _items(payload: Any, key: str, where: str) -> list[dict[str, Any]]:
    """A bare JSON array, or `{key: [...]}` where one element may come as a bare object and
    none as "" or []."""
    if isinstance(payload, list):
        value: Any = payload
    elif not isinstance(payload, dict):
        raise DataError(f"8x8 {where}: expected a JSON object or array, got {type(payload).__name__}")
    elif key not in payload:
        raise field_map.missing(f"8x8 {where}", key, payload)
    else:
        value = payload[key]
    if value in ("", None):
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise DataError(f"8x8 {where}: '{key}' is {type(value).__name__}, expected a list")
    for i, item in enumerate(value):
        _object(item, f"{where} {key}[{i}]")
    return value


def _agent_items(payload: Any, n: dict[str, str]) -> list[dict[str, Any]]:
    return _items(payload, n["agent_list"], "agents.json")


def _queue_items(payload: Any, where: str, n: dict[str, str]) -> list[dict[str, Any]]:
    return _items(payload, n["queue_list"], where)


def _statistics(payload: Any, where: str, n: dict[str, str]) -> list[Any]:
    """`{"statistics": {"statistic": [...]}}`, or `{"statistics": ""}` for no data [CODE]; also
    the records as a bare array, or as a list directly under "statistics"."""
    key = n["statistics"]
    if isinstance(payload, list):
        return _items(payload, n["statistic_list"], where)
    if not isinstance(payload, dict):
        raise DataError(f"8x8 {where}: expected a JSON object or array, got {type(payload).__name__}")
    if key not in payload:
        raise field_map.missing(f"8x8 {where}", key, payload)
    stats = payload[key]
    if stats in ("", None):
        return []
    if isinstance(stats, list):
        return _items(stats, n["statistic_list"], f"{where} {key}")
    if not isinstance(stats, dict):
        raise DataError(f"8x8 {where}: '{key}' is {type(stats).__name__}, expected an object")
    return _items(stats, n["statistic_list"], f"{where} {key}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(item: dict[str, Any], key: str, where: str) -> str:
    if key not in item:
        raise field_map.missing(f"8x8 {where}", key, item)
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DataError(f"8x8 {where}: '{key}' is {_show(value)}, expected an identifier")
    return str(value).strip()


def _optional_text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DataError(f"8x8 {where}: '{key}' is {_show(value)}, expected text")
    return str(value).strip()


def _int(item: dict[str, Any], key: str, where: str) -> int:
    if key not in item:
        raise field_map.missing(f"8x8 {where}", key, item)
    value = item[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise DataError(f"8x8 {where}: '{key}' is {_show(value)}, expected an integer")


def _seconds(item: dict[str, Any], key: str, where: str) -> int | None:
    """A duration in seconds (8x8 sends a string); None when 8x8 has not filled it yet."""
    if key not in item:
        raise field_map.missing(f"8x8 {where}", key, item)
    value = item[key]
    if value in ("", None):
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise DataError(f"8x8 {where}: '{key}' is {_show(value)}, expected seconds")
    if number < 0:
        raise DataError(f"8x8 {where}: '{key}' is {_show(value)}, a negative duration")
    return round(number)


def _yes_no(item: dict[str, Any], key: str, where: str) -> bool:
    if key not in item:
        raise field_map.missing(f"8x8 {where}", key, item)
    value = item[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().upper() in ("Y", "N"):
        return value.strip().upper() == "Y"
    raise DataError(f'8x8 {where}: \'{key}\' is {_show(value)}, expected "Y" or "N"')


def _no_duplicates(ids: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for vendor_id in ids:
        if vendor_id in seen:
            raise DataError(f"8x8 {where}: '{key}' {vendor_id!r} appears twice")
        seen.add(vendor_id)

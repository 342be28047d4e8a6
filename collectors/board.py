"""The health board: one row per stream with everything the page, the command and the
metrics show, built with a fixed number of queries whatever the number of connections.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timedelta as td

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from collectors import gaps, health
from collectors.backfill import Progress
from collectors.models import CollectionRun, CollectionSchedule, Cursor
from collectors.streams import all_streams, find_stream, gap_streams
from integrations.cli import iso_z
from integrations.models import Tenant, VendorConnection

HOURS = 24


@dataclass
class Slot:
    """One hour of the 24-hour strip."""

    start: datetime
    ok: int = 0
    failed: int = 0

    @property
    def state(self) -> str:
        if not self.ok and not self.failed:
            return "none"
        if not self.failed:
            return "ok"
        return "failed" if not self.ok else "mixed"

    @property
    def title(self) -> str:
        return f"{self.start:%H:%M} UTC: {self.ok} ok, {self.failed} failed"


@dataclass
class StreamRow:
    schedule: CollectionSchedule
    last_error: str
    gaps: int | None
    strip: list[Slot]
    token_warning: str = ""
    token_expiry_unknown: bool = False
    freshness: datetime | None = None  # newest interval end, last poll or last file
    backfill: Progress | None = None  # a new connection's history, while it is collected

    @property
    def connection(self) -> VendorConnection:
        return self.schedule.connection

    @property
    def tenant(self) -> Tenant:
        return self.schedule.connection.tenant

    @property
    def status(self) -> str:
        return self.schedule.status

    @property
    def down(self) -> bool:
        return self.status in health.DOWN

    def as_dict(self) -> dict[str, object]:
        s = self.schedule
        iso = iso_z
        declared = find_stream(s.stream)
        return {
            "tenant": self.tenant.slug,
            "connection": self.connection.key,
            "vendor": self.connection.vendor,
            "stream": declared.command_name if declared else s.stream,
            "status": s.status,
            "since": iso(s.status_since),
            "reason": s.status_reason,
            "token_warning": self.token_warning or None,
            "token_expiry_unknown": self.token_expiry_unknown,
            "last_success": iso(s.last_success_at),
            "last_error": self.last_error or None,
            "next_run": iso(s.next_run_at) if s.enabled else None,
            "consecutive_failures": s.consecutive_failures,
            "gaps_7d": self.gaps,
            "freshness": iso(self.freshness),
            "backfill": None
            if self.backfill is None
            else {
                "done_days": self.backfill.done_days,
                "total_days": self.backfill.total_days,
                "seconds_left": None
                if self.backfill.left is None
                else round(self.backfill.left.total_seconds()),
                "text": self.backfill.text,
            },
        }


@dataclass
class ConnectionRow:
    connection: VendorConnection
    streams: list[StreamRow] = field(default_factory=list)

    @property
    def status(self) -> str:
        return health.worst(r.status for r in self.streams)


@dataclass
class TenantRow:
    tenant: Tenant
    connections: list[ConnectionRow] = field(default_factory=list)


def strips(schedules: list[CollectionSchedule], now: datetime) -> dict[tuple[int, str], list[Slot]]:
    """Runs of the last 24 hours per stream, counted per hour in the database."""
    first = now.replace(minute=0, second=0, microsecond=0) - td(hours=HOURS - 1)
    out = {(s.connection_id, s.stream): [Slot(first + td(hours=h)) for h in range(HOURS)] for s in schedules}
    rows = (
        CollectionRun.objects.filter(
            connection_id__in={s.connection_id for s in schedules},
            started_at__gte=first,
            status__in=health.FINISHED_RUN,
        )
        .order_by()
        .annotate(hour=TruncHour("started_at"))
        .values("connection_id", "stream", "hour", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        slots = out.get((row["connection_id"], row["stream"]))
        if slots is None:
            continue
        index = int((row["hour"] - first).total_seconds() // 3600)
        if 0 <= index < HOURS:
            if row["status"] == CollectionRun.OK:
                slots[index].ok += row["n"]
            else:
                slots[index].failed += row["n"]
    return out


def token_warnings(schedules: list[CollectionSchedule], now: datetime) -> dict[int, str]:
    """'token expires in N days (date)' per stream (schedule id) speaking with a token within the
    warning window; a stream that uses no token (a file drop) is not warned about one."""
    tokens = health.token_expiries({s.connection_id for s in schedules})
    out: dict[int, str] = {}
    for s in schedules:
        sections = health.sections_of(s)
        used = [t for t in tokens.get(s.connection_id, []) if t.section in sections]
        today: date = health.tenant_today(s, now)
        soon = health.expiring_token(used, today)
        if soon is not None:
            days = (soon.expires - today).days
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            out[s.pk] = f"token expires {when} ({soon.expires.isoformat()})"
    return out


TOKEN_EXPIRY_UNKNOWN = "token expiry unknown"


def unknown_expiry(schedules: list[CollectionSchedule]) -> set[int]:
    """Streams (schedule ids) speaking with a token whose expiry nobody recorded."""
    from tokens.models import TRACKED_SECTION, connections_without_token

    ids = {s.connection_id for s in schedules}
    missing = set(connections_without_token().filter(pk__in=ids).values_list("pk", flat=True))
    return {
        s.pk for s in schedules if s.connection_id in missing and TRACKED_SECTION in health.sections_of(s)
    }


def build(
    connections: QuerySet[VendorConnection] | Iterable[VendorConnection] | None = None,
    now: datetime | None = None,
    schedules: QuerySet[CollectionSchedule] | None = None,
    *,
    for_display: bool = True,
) -> list[StreamRow]:
    """Every stream of the given connections (all when None). Without `for_display`, no
    24-hour run strips and no freshness (/metrics shows neither, and both read more rows
    the more are stored)."""
    now = now or timezone.now()
    qs = CollectionSchedule.objects.select_related("connection__tenant")
    if schedules is not None:
        qs = schedules.select_related("connection__tenant")
    if connections is not None:
        qs = qs.filter(connection__in=connections)
    rows = list(qs.order_by("connection__tenant__name", "connection__name", "stream"))
    counted = gap_streams()
    history = {s.connection_id: s.connection.created for s in rows if s.stream in counted}
    coverage = gaps.coverage(history.items(), now)
    fresh = gaps.freshness({s.connection_id for s in rows}) if for_display else {}
    strip = strips(rows, now) if for_display else {}
    warnings = token_warnings(rows, now)
    unknown = unknown_expiry(rows)
    backfilled = {s.key for s in all_streams() if s.backfill}
    backfills = progress_by_connection({s.connection_id for s in rows if s.stream in backfilled}, now)
    out = []
    for s in rows:
        cov = coverage.get(s.connection_id)
        out.append(
            StreamRow(
                schedule=s,
                last_error=health.last_error(s),
                gaps=cov.gaps if cov is not None and s.stream in counted else None,
                strip=strip.get((s.connection_id, s.stream), []),
                token_warning=TOKEN_EXPIRY_UNKNOWN if s.pk in unknown else warnings.get(s.pk, ""),
                token_expiry_unknown=s.pk in unknown,
                freshness=freshness_of(s, fresh.get(s.connection_id)),
                backfill=backfills.get(s.connection_id) if s.stream in backfilled else None,
            )
        )
    return out


def freshness_of(schedule: CollectionSchedule, fresh: gaps.Freshness | None) -> datetime | None:
    """The age of a stream's data as its declaration defines it (`Stream.freshness`): the end
    of the newest interval stored (else the last success), the newest file received, or the
    last success."""
    declared = find_stream(schedule.stream)
    rule = declared.freshness if declared is not None else "last_success"
    if rule == "newest_interval" and fresh and fresh.newest_interval:
        return fresh.newest_interval + gaps.INTERVAL
    if rule == "last_file":
        return fresh.last_file if fresh else None
    return schedule.last_success_at


def grid(rows: list[StreamRow]) -> list[TenantRow]:
    """Rows grouped tenant → connection → streams, in display order."""
    tenants: dict[int, TenantRow] = {}
    conns: dict[int, ConnectionRow] = {}
    for row in rows:
        t = tenants.setdefault(row.tenant.pk, TenantRow(row.tenant))
        if row.connection.pk not in conns:
            conns[row.connection.pk] = ConnectionRow(row.connection)
            t.connections.append(conns[row.connection.pk])
        conns[row.connection.pk].streams.append(row)
    return list(tenants.values())


def summary(rows: list[StreamRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.status] += 1
    return dict(counts)


def progress_by_connection(connection_ids: set[int], now: datetime) -> dict[int, Progress]:
    """The backfills still under way among these connections, in one query."""
    streams = [s.key for s in all_streams() if s.backfill]
    cursors = Cursor.objects.filter(
        connection_id__in=connection_ids, stream__in=streams, backfill_from__isnull=False
    ).select_related("connection")
    out = {}
    for cursor in cursors:
        settle = cursor.connection.vendor_class.volume_settle_seconds
        found = cursor.backfill_progress(now, settle)
        if found is not None:
            out[cursor.connection_id] = found
    return out

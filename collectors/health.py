"""The status of every stream, and its transitions (healthchecks' model).

A stream's status is stored on its `CollectionSchedule` and changes only at transitions;
each transition writes one `HealthFlip`, which is both the history and the email outbox.
`evaluate()` is a pure function of the schedule's facts (kept up to date by the engine's
`record_outcome`) and the connection's tokens; `evaluate_all()` applies it to every
schedule with a constant number of queries and writes flips for changes only.

Health reads outcomes: the engine stores each run's outcome on its schedule and never
calls in here. `on_outcome` listens on `collectors.runs.outcome_recorded` (the one hook,
kept so a failure is judged at once rather than at the next periodic pass); time-driven
changes (lateness, expired tokens) are the periodic pass's.

Rules, in order (the first that applies wins):
1. `paused`: the schedule is disabled (by a person, or by auto-pause).
2. `auth_failed`: a token the stream uses has expired, or the last finished run was
   refused by the vendor.
3. auto-pause: at least AUTOPAUSE_FAILURES consecutive failures spanning AUTOPAUSE_AFTER
   disable the stream (`paused`, with an email saying how to resume).
4. `failing`: at least FAILING_AFTER consecutive failures.
5. `new`: nothing collected yet since the stream was created or resumed, and it is not
   yet overdue.
6. `late`: no success (for the file drop: no file received) within interval + grace
   (the grace and the wording are the stream's declaration's, `collectors.streams`).
7. `ok`.

Concurrency: every transition is a compare-and-set on (status, status_since), so two
evaluators racing on the same schedule write one flip between them, on any database.
The flip's webhook deliveries (`notifications`) are written in the same transaction, so
an event goes out to each endpoint exactly once, with the flip.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from datetime import timedelta as td
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from collectors.health_conf import conf
from collectors.models import CollectionRun, CollectionSchedule, HealthFlip, judge_now
from collectors.streams import find_stream
from integrations.models import Tenant, VendorConnection
from integrations.scrub import scrub
from integrations.vendors.base import HISTORY, REALTIME
from notifications import events
from notifications.models import STREAM_DOWN, STREAM_PAUSED, STREAM_RECOVERED

log = logging.getLogger(__name__)

NEW, OK, LATE, FAILING, AUTH_FAILED, PAUSED = "new", "ok", "late", "failing", "auth_failed", "paused"
# Statuses that mean "someone should look": alerts, red cells, `health` exit status 1.
DOWN = (LATE, FAILING, AUTH_FAILED)
# Worst first decides a connection's status.
SEVERITY = {OK: 0, NEW: 1, PAUSED: 2, LATE: 3, FAILING: 4, AUTH_FAILED: 5}
FINISHED_RUN = (CollectionRun.OK, CollectionRun.FAILED, CollectionRun.AUTH_FAILED, CollectionRun.TIMED_OUT)
FAILED_RUN = (
    CollectionRun.FAILED,
    CollectionRun.AUTH_FAILED,
    CollectionRun.RETRYING,
    CollectionRun.TIMED_OUT,
)
AUTOPAUSE_PREFIX = "paused automatically"
# Transitions nobody is told of: a first success, and a resume (the person knows).
QUIET = {(NEW, OK), (PAUSED, NEW)}
EPOCH_VALUE = Value(datetime(1970, 1, 1, tzinfo=UTC), output_field=DateTimeField())


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str = ""
    autopause: bool = False


@dataclass(frozen=True)
class TokenExpiry:
    section: str
    expires: date


def worst(statuses: Iterable[str]) -> str:
    """A connection's status is its worst stream's (`new` when it has none)."""
    return max(statuses, key=SEVERITY.__getitem__, default=NEW)


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def annotated(queryset: QuerySet[CollectionSchedule] | None = None) -> QuerySet[CollectionSchedule]:
    """Schedules with every fact `evaluate` needs, in one query."""
    qs = CollectionSchedule.objects.all() if queryset is None else queryset
    same_stream = {"connection": OuterRef("connection"), "stream": OuterRef("stream")}
    runs = CollectionRun.objects.filter(**same_stream)
    return qs.select_related("connection__tenant").annotate(
        last_run_status=Subquery(
            runs.filter(status__in=FINISHED_RUN).order_by("-started_at").values("status")[:1]
        ),
        # First failure after the last success: how long the current streak has lasted.
        streak_started=Subquery(
            runs.filter(status__in=FAILED_RUN)
            .filter(started_at__gt=Coalesce(OuterRef("last_success_at"), EPOCH_VALUE))
            .order_by("started_at")
            .values("started_at")[:1]
        ),
    )


def token_expiries(connection_ids: Iterable[int]) -> dict[int, list[TokenExpiry]]:
    """Every connection's token expiry dates, in one query."""
    from tokens.models import AccessToken

    out: dict[int, list[TokenExpiry]] = {}
    rows = AccessToken.objects.filter(connection_id__in=list(connection_ids)).values_list(
        "connection_id", "section", "expires"
    )
    for conn_id, section, expires in rows:
        out.setdefault(conn_id, []).append(TokenExpiry(section, expires))
    return out


def tenant_today_of(tenant: Tenant, now: datetime) -> date:
    """Token days are counted in the tenant's zone, as the reminders count them."""
    return now.astimezone(zoneinfo.ZoneInfo(tenant.time_zone)).date()


def tenant_today(schedule: CollectionSchedule, now: datetime) -> date:
    return tenant_today_of(schedule.connection.tenant, now)


def sections_of(schedule: CollectionSchedule) -> set[str]:
    """The credential sections the stream speaks with (`Stream.sections`)."""
    declared = find_stream(schedule.stream)
    sections = set(declared.sections if declared is not None else ())
    if HISTORY in sections and not schedule.connection.history_secrets:
        sections.add(REALTIME)  # history falls back to the real-time credentials
    return sections


def expired_token(
    schedule: CollectionSchedule, tokens: Iterable[TokenExpiry], now: datetime
) -> TokenExpiry | None:
    sections = sections_of(schedule)
    today = tenant_today(schedule, now)
    expired = [t for t in tokens if t.section in sections and t.expires < today]
    return min(expired, key=lambda t: t.expires, default=None)


def expiring_token(tokens: Iterable[TokenExpiry], today: date) -> TokenExpiry | None:
    """The soonest token that expires within TOKEN_WARNING_DAYS (still valid)."""
    soon = [t for t in tokens if 0 <= (t.expires - today).days <= conf.TOKEN_WARNING_DAYS]
    return min(soon, key=lambda t: t.expires, default=None)


def last_error(schedule: CollectionSchedule) -> str:
    """The schedule's last error, scrubbed of the connection's secrets (for pages and mail)."""
    if not schedule.last_error:
        return ""
    return scrub(schedule.last_error, schedule.connection.secret_values())


def evaluate(schedule: CollectionSchedule, now: datetime, tokens: Iterable[TokenExpiry] = ()) -> Verdict:
    """The status a schedule should have now. `schedule` comes from `annotated()`."""
    s = schedule
    if not s.enabled:
        keep = s.status == PAUSED and s.status_reason
        return Verdict(PAUSED, s.status_reason if keep else "paused")
    # Switched off by a person: not collected, so neither late nor down.
    if not s.connection.enabled:
        return Verdict(PAUSED, "connection disabled")
    if not s.connection.tenant.active:
        return Verdict(PAUSED, "tenant inactive")

    token = expired_token(s, tokens, now)
    if token is not None:
        return Verdict(AUTH_FAILED, f"token expired on {token.expires.isoformat()}")
    if getattr(s, "last_run_status", None) == CollectionRun.AUTH_FAILED:
        error = last_error(s)
        return Verdict(
            AUTH_FAILED, "the vendor refused the credentials" + (f" ({error[:300]})" if error else "")
        )

    failures = s.consecutive_failures
    streak_started = getattr(s, "streak_started", None)
    if (
        failures >= conf.AUTOPAUSE_FAILURES
        and streak_started is not None
        and now - streak_started >= conf.AUTOPAUSE_AFTER
    ):
        return Verdict(
            PAUSED,
            f"{AUTOPAUSE_PREFIX} after {failures} consecutive failures since {_fmt(streak_started)}",
            autopause=True,
        )
    if failures >= conf.FAILING_AFTER:
        return Verdict(FAILING, f"{failures} consecutive failures")

    # A stream fed by a transport succeeds once per delivery (the file drop: per file taken,
    # ingested or the same content again, never per scan), so its last success is the newest
    # delivery, its proof of life; its declaration words the reasons so.
    declared = find_stream(s.stream)
    since, succeeded = late_clock(s)
    if now < conf.late_after(s.stream, s.interval_seconds, since):
        return Verdict(OK if succeeded else NEW, "")
    if not succeeded:
        what = declared.nothing_yet if declared is not None else "nothing collected"
        return Verdict(LATE, f"{what} since {_fmt(since)}")
    last = declared.last_seen if declared is not None else "last success"
    return Verdict(LATE, f"{last} {_fmt(since)}, expected every {_duration(s.interval_seconds)}")


def late_clock(s: CollectionSchedule) -> tuple[datetime, bool]:
    """The moment lateness is counted from, and whether it is a success (else the start)."""
    success = s.last_success_at
    if s.status == NEW and s.status_since and (success is None or success < s.status_since):
        success = None  # resumed: what came before the pause does not count
    if success is not None:
        return success, True
    return (s.status_since if s.status == NEW and s.status_since else s.connection.created), False


def day_start(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`: a midnight skipped by a clock change starts the
    day at the change, a repeated one at its first occurrence."""
    midnight = datetime.combine(day, time())
    readings = sorted(midnight.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    return next(r for r in readings if r.astimezone(zone).date() >= day)


def next_changes(
    schedule: CollectionSchedule, verdict: Verdict, now: datetime, tokens: Iterable[TokenExpiry] = ()
) -> tuple[datetime | None, datetime | None]:
    """When `evaluate` can next give another status with nothing but time passing:
    (late_after, health_due_at), each None when no such moment is pending.

    Never later than the real change (each is the first instant the rule it mirrors holds),
    so a pass that reads only due rows misses no transition; inputs that change the verdict
    otherwise (an outcome, a token, the connection, a pause) judge the stream themselves.
    """
    s = schedule
    if verdict.status == PAUSED or verdict.status == AUTH_FAILED:
        return None, None  # only a person, a token or an outcome ends these
    due: list[datetime] = []
    today = tenant_today(s, now)
    sections = sections_of(s)
    valid = [t.expires for t in tokens if t.section in sections and t.expires >= today]
    if valid:  # expired from the day after its date, in the tenant's zone
        zone = zoneinfo.ZoneInfo(s.connection.tenant.time_zone)
        due.append(day_start(min(valid) + td(days=1), zone))
    streak_started = getattr(s, "streak_started", None)
    if s.consecutive_failures >= conf.AUTOPAUSE_FAILURES and streak_started is not None:
        due.append(streak_started + conf.AUTOPAUSE_AFTER)
    late_after = None
    if verdict.status in (OK, NEW):
        since, _ = late_clock(s)
        late_after = conf.late_after(s.stream, s.interval_seconds, since)
    return late_after, min(due, default=None)


def alert_kind(old_status: str, new_status: str) -> str | None:
    """Which alert a transition is (None: none): down, recovered, paused or changed."""
    if (old_status, new_status) in QUIET:
        return None
    if new_status in DOWN:
        return "down"
    if old_status in DOWN and new_status == OK:
        return "recovered"
    if new_status == PAUSED:
        return "paused"
    return "changed"


EVENT_OF_ALERT = {"down": STREAM_DOWN, "recovered": STREAM_RECOVERED, "paused": STREAM_PAUSED}


def publish_flip(schedule: CollectionSchedule, flip: HealthFlip) -> None:
    """Fan a flip out to the tenant's webhook, Slack and Teams endpoints (same transaction)."""
    kind = EVENT_OF_ALERT.get(alert_kind(flip.old_status, flip.new_status) or "")
    if kind is None:
        return
    conn = schedule.connection
    data = {
        "stream": flip.stream,
        "stream_label": flip.get_stream_display(),
        "old_status": flip.old_status,
        "new_status": flip.new_status,
        "reason": scrub(flip.reason, conn.secret_values()),
        "url": settings.SITE_URL + reverse("collectors:health-stream", args=[schedule.pk]),
    }
    events.publish(conn.tenant, kind, data, conn, key=f"flip:{flip.pk}", created=flip.created)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def transition(
    schedule: CollectionSchedule,
    new_status: str,
    reason: str,
    now: datetime,
    *,
    old_status: str | None = None,
    require: dict[str, Any] | None = None,
    **changes: Any,
) -> HealthFlip | None:
    """Move a schedule to `new_status` and write its flip, unless someone else moved it first.

    The update is a compare-and-set on the status and status_since this caller read, so
    of two concurrent evaluators exactly one updates the row and writes the flip.
    """
    reason = reason[:500]
    # status_since is the row's version for the compare-and-set: it must change even when
    # the status does not (recording a flip someone else's update left out).
    if schedule.status_since is not None and now <= schedule.status_since:
        now = schedule.status_since + td(microseconds=1)
    with transaction.atomic():
        updated = CollectionSchedule.objects.filter(
            pk=schedule.pk, status=schedule.status, status_since=schedule.status_since, **(require or {})
        ).update(status=new_status, status_since=now, status_reason=reason, **changes)
        if updated != 1:
            return None
        flip = HealthFlip.objects.create(
            connection_id=schedule.connection_id,
            stream=schedule.stream,
            old_status=old_status or schedule.status,
            new_status=new_status,
            reason=reason,
            created=now,
        )
        publish_flip(schedule, flip)
    schedule.status, schedule.status_since, schedule.status_reason = new_status, now, reason
    for name, value in changes.items():
        setattr(schedule, name, value)
    return flip


def apply(schedule: CollectionSchedule, verdict: Verdict, now: datetime) -> HealthFlip | None:
    """Write the verdict if it changes anything; return the flip written, if any."""
    if verdict.autopause:
        return transition(schedule, PAUSED, verdict.reason, now, require={"enabled": True}, enabled=False)
    if verdict.status != schedule.status:
        return transition(schedule, verdict.status, verdict.reason, now)
    return None


def due(now: datetime) -> QuerySet[CollectionSchedule]:
    """The schedules whose status can have changed with time: two index range scans."""
    return CollectionSchedule.objects.filter(Q(late_after__lte=now) | Q(health_due_at__lte=now))


def evaluate_all(
    now: datetime | None = None, queryset: QuerySet[CollectionSchedule] | None = None, *, full: bool = False
) -> int:
    """Judge the due schedules (or `queryset`'s, or with `full` every one); write flips for
    transitions only, and store each judged schedule's next time-driven change. Returns
    flips written.

    The periodic pass (no queryset) first closes runs abandoned by a lost worker.
    """
    now = now or timezone.now()
    if queryset is None:
        abandoned = CollectionRun.objects.abandon_expired(now)
        if abandoned:
            log.warning("health: %d run(s) abandoned by a lost worker closed", abandoned)
        queryset = CollectionSchedule.objects.all() if full else due(now)
    schedules = list(annotated(queryset))
    tokens = token_expiries({s.connection_id for s in schedules})
    written = 0
    moved: list[Moved] = []
    for schedule in schedules:
        read = (schedule.late_after, schedule.health_due_at)
        conn_tokens = tokens.get(schedule.connection_id, ())
        verdict = evaluate(schedule, now, conn_tokens)
        if apply(schedule, verdict, now) is not None:
            written += 1
        changes = next_changes(schedule, verdict, now, conn_tokens)
        if changes != read:
            moved.append(Moved(schedule.pk, read, changes))
    store_next_changes(moved)
    return written


@dataclass(frozen=True)
class Moved:
    """A schedule's due times (late_after, health_due_at) as read, and as they should be."""

    pk: int
    read: tuple[datetime | None, datetime | None]
    new: tuple[datetime | None, datetime | None]


def store_next_changes(moved: list[Moved], batch: int = 500) -> None:
    """Write the new due times, `batch` rows per UPDATE, each row only if its due times are
    still the ones read: an outcome or a change stored meanwhile keeps its own."""
    for start in range(0, len(moved), batch):
        rows = moved[start : start + batch]
        cases: dict[str, list[When]] = {"late_after": [], "health_due_at": []}
        for row in rows:
            unchanged = Q(pk=row.pk) & _is("late_after", row.read[0]) & _is("health_due_at", row.read[1])
            for field, value in zip(cases, row.new, strict=True):
                cases[field].append(When(unchanged, then=Value(value, output_field=DateTimeField())))
        CollectionSchedule.objects.filter(pk__in=[row.pk for row in rows]).update(
            **{field: Case(*whens, default=F(field)) for field, whens in cases.items()}
        )


def _is(field: str, value: datetime | None) -> Q:
    return Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})


def judge_soon(schedules: QuerySet[CollectionSchedule]) -> int:
    """Have the next pass judge these schedules: something `evaluate` reads has changed."""
    return schedules.update(health_due_at=judge_now())


def on_outcome(sender: object, schedule: CollectionSchedule, now: datetime, **kwargs: object) -> None:
    """Judge a stream as soon as a run's outcome is stored (`collectors.runs.outcome_recorded`)."""
    evaluate_all(now, CollectionSchedule.objects.filter(pk=schedule.pk))


def on_input_changed(sender: type, instance: object, **kwargs: object) -> None:
    """A token, connection or tenant saved or deleted: judge its streams at the next pass."""
    schedules = CollectionSchedule.objects.all()
    if isinstance(instance, Tenant):
        judge_soon(schedules.filter(connection__tenant_id=instance.pk))
    elif isinstance(instance, VendorConnection):
        judge_soon(schedules.filter(connection_id=instance.pk))
    else:  # an access token
        judge_soon(schedules.filter(connection_id=instance.connection_id))  # type: ignore[attr-defined]


def pause(schedule: CollectionSchedule, by: str, now: datetime | None = None) -> HealthFlip | None:
    """Pause a stream by hand: the dispatcher skips it until it is resumed."""
    now = now or timezone.now()
    fresh = CollectionSchedule.objects.get(pk=schedule.pk)
    if not fresh.enabled and fresh.status == PAUSED:
        return None
    require = {"enabled": fresh.enabled}
    return transition(
        fresh,
        PAUSED,
        f"paused by {by}",
        now,
        require=require,
        enabled=False,
        late_after=None,
        health_due_at=None,
    )


def resume(schedule: CollectionSchedule, by: str, now: datetime | None = None) -> HealthFlip | None:
    """Restart a paused stream: it runs at once and is `new` until its next success."""
    now = now or timezone.now()
    fresh = CollectionSchedule.objects.get(pk=schedule.pk)
    if fresh.enabled:
        return None
    return transition(
        fresh,
        NEW,
        f"resumed by {by}",
        now,
        require={"enabled": False},
        enabled=True,
        consecutive_failures=0,
        next_run_at=now,
        # Late one window after the resume; the next pass judges the rest (its tokens).
        late_after=conf.late_after(fresh.stream, fresh.interval_seconds, now),
        health_due_at=judge_now(),
    )


def is_autopaused(schedule: CollectionSchedule) -> bool:
    return schedule.status == PAUSED and schedule.status_reason.startswith(AUTOPAUSE_PREFIX)

"""Email for health flips: what each flip says and to whom; the one outbox sends it.

A pass first decides, per flip, what it gets (claimed with a compare-and-set on
`processed`, so the decision is taken once), then sends the flips that are to be mailed
through the notification app's one outbox (`notifications.outbox`): claimed with a
compare-and-set, a transient SMTP failure retried with backoff on later ticks until
NOTIFY_MAIL_MAX_ATTEMPTS, exactly as token reminders are.

Who is told: the tenant's account managers and owners (verified, unambiguous addresses,
`notifications.recipients`) and the confirmed members of its subscription lists (with
one-click unsubscribe headers). What they are told depends on the flip:
- into late / failing / auth_failed: "down", with the reason and the last error (scrubbed);
- from one of those to ok: "recovered", with how long it was down;
- into paused: "paused" (auto-pause says why and how to resume);
- anything else but a first success (new → ok) or a resume: "changed".
A stream that flips more than HEALTH_FLAP_THRESHOLD times within an hour is "flapping":
its pending flips go out as one summary, and further flips within the hour are recorded
as suppressed instead of mailed. The summary rides on the latest of those flips.
The streams of one connection that go down (or recover) within HEALTH_GROUP_SECONDS of
each other share one mail (`collectors.flip_groups`).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime
from datetime import timedelta as td

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from collectors import flip_groups, health
from collectors.flip_groups import kind_of
from collectors.health_conf import conf
from collectors.models import CollectionSchedule, HealthFlip
from integrations.models import Membership, Tenant
from integrations.scrub import scrub
from notifications import recipients
from notifications.models import FAILED, RETRYING
from notifications.models import SENT as MAILED
from notifications.outbox import Mail, drain, send_mail
from notifications.verification import unsubscribe_url

BATCH = 500
SENT, SUMMARISED, SUPPRESSED, NOT_NOTIFIED, NOBODY = (
    "sent",
    "summarised",
    "suppressed",
    "not_notified",
    "no_recipients",
)
# `delivery` after a try, from the outbox row's status (a summary stays "summarised").
AFTER_TRY = {MAILED: SENT, RETRYING: RETRYING, FAILED: FAILED, "nobody to tell": NOBODY}


def down_since(flip: HealthFlip) -> datetime | None:
    """When the down period that this flip ends began (the flip into it)."""
    earlier = HealthFlip.objects.filter(
        connection_id=flip.connection_id, stream=flip.stream, created__lte=flip.created
    ).exclude(pk=flip.pk)
    start = (
        earlier.filter(new_status__in=health.DOWN)
        .exclude(old_status__in=health.DOWN)
        .order_by("-created", "-id")
        .values_list("created", flat=True)
        .first()
    )
    return start


def in_zones(moment: datetime, tenant: Tenant) -> str:
    """A moment as the tenant reads it, with UTC beside: "2026-03-02 06:00 America/Chicago (12:00 UTC)"."""
    utc = moment.astimezone(UTC)
    if tenant.time_zone in ("", "UTC"):
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    local = moment.astimezone(zoneinfo.ZoneInfo(tenant.time_zone))
    utc_format = "%H:%M" if local.date() == utc.date() else "%Y-%m-%d %H:%M"
    return f"{local:%Y-%m-%d %H:%M} {tenant.time_zone} ({utc.strftime(utc_format)} UTC)"


def humanize(delta: td) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def claim(flip: HealthFlip, now: datetime) -> bool:
    """Two workers never decide (so never mail) the same flip: only the one whose update hit a row does."""
    return HealthFlip.objects.filter(pk=flip.pk, processed=None).update(processed=now) == 1


def _finish(flips: list[HealthFlip], delivery: str, now: datetime) -> None:
    """Decided without a message of its own: finished in the outbox too."""
    HealthFlip.objects.filter(pk__in=[f.pk for f in flips]).update(delivery=delivery, sent_at=now)


class Audience:
    """Recipients (and schedules) of every flip to send, loaded in a fixed number of queries."""

    def __init__(self, flips: list[HealthFlip]) -> None:
        tenant_ids = {f.connection.tenant_id for f in flips}
        self.members = recipients.members_by_tenant(tenant_ids, roles=Membership.MANAGING_ROLES)
        self.subscribers = recipients.subscribers_by_tenant(tenant_ids)
        self.schedules = {
            (s.connection_id, s.stream): s
            for s in CollectionSchedule.objects.filter(
                connection_id__in={f.connection_id for f in flips}
            ).select_related("connection")
        }

    def of(self, tenant_id: int) -> tuple[list[str], dict[str, str]]:
        subs = {s.email: unsubscribe_url(s) for s in self.subscribers.get(tenant_id, [])}
        members = [a for a in self.members.get(tenant_id, []) if a not in subs]
        return members + sorted(subs), subs


def _context(flip: HealthFlip, schedule: CollectionSchedule | None) -> dict[str, object]:
    conn = flip.connection
    ctx: dict[str, object] = {
        "flip": flip,
        "connection": conn,
        "tenant": conn.tenant,
        "stream": flip.get_stream_display(),
        "old": flip.get_old_status_display(),
        "new": flip.get_new_status_display(),
        "reason": scrub(flip.reason, conn.secret_values()),
        "last_error": health.last_error(schedule) if schedule else "",
        "autopaused": flip.new_status == health.PAUSED and flip.reason.startswith(health.AUTOPAUSE_PREFIX),
        "health_url": settings.SITE_URL + reverse("collectors:health"),
        "stream_url": (
            settings.SITE_URL + reverse("collectors:health-stream", args=[schedule.pk]) if schedule else ""
        ),
    }
    if kind_of(flip) == "recovered":
        start = down_since(flip)
        ctx["down_for"] = humanize(flip.created - start) if start else ""
        ctx["down_since"] = start
        ctx["down_since_text"] = in_zones(start, conn.tenant) if start else ""
    return ctx


def _flapping_context(flip: HealthFlip, schedule: CollectionSchedule | None) -> dict[str, object]:
    """The summary: the flips decided with this one, and the hour's count at that moment."""
    assert flip.processed is not None
    same = HealthFlip.objects.filter(connection_id=flip.connection_id, stream=flip.stream)
    flips = list(same.filter(processed=flip.processed, delivery=SUMMARISED).order_by("created", "id"))
    count = same.filter(created__gte=flip.processed - td(hours=1), created__lte=flip.processed).count()
    return {**_context(flip, schedule), "flips": flips, "count": count}


def _group_context(flips: list[HealthFlip], audience: Audience) -> dict[str, object]:
    """One connection's streams that went down (or recovered) together, oldest first."""
    items = [_context(f, audience.schedules.get((f.connection_id, f.stream))) for f in flips]
    return {**items[0], "kind": kind_of(flips[0]), "items": items, "count": len(items)}


def compose(flip: HealthFlip, audience: Audience, riders: list[HealthFlip] | None = None) -> Mail | str:
    """The message of a flip the pass decided to mail (or a summary), or why nobody is told."""
    tenant_id = flip.connection.tenant_id
    addresses, subs = audience.of(tenant_id)
    if not addresses:
        return "nobody verified to tell"
    schedule = audience.schedules.get((flip.connection_id, flip.stream))
    if flip.delivery == SUMMARISED:
        return Mail("health-flapping", _flapping_context(flip, schedule), addresses, subs)
    if riders:
        return Mail("health-group", _group_context([flip, *riders], audience), addresses, subs)
    return Mail(f"health-{kind_of(flip)}", _context(flip, schedule), addresses, subs)


def send(flip: HealthFlip, audience: Audience, group: list[HealthFlip], now: datetime) -> bool:
    """Send one claimed flip (with the companions of its group it could claim) through the
    one outbox; True when somebody got it."""
    riders = flip_groups.claim_riders(group, now)
    sent = send_mail(flip, lambda f: compose(f, audience, riders))
    if flip.delivery != SUMMARISED:
        flip.delivery = AFTER_TRY.get(flip.status, FAILED)
        HealthFlip.objects.filter(pk=flip.pk).update(delivery=flip.delivery)
    flip_groups.finish_riders(flip, riders)
    return sent > 0


def decide(now: datetime) -> None:
    """Decide what every undecided flip gets; those to be mailed join the outbox."""
    pending = list(
        HealthFlip.objects.filter(processed=None)
        .select_related("connection__tenant")
        .order_by("created", "id")[:BATCH]
    )
    if not pending:
        return
    groups: dict[tuple[int, str], list[HealthFlip]] = defaultdict(list)
    for flip in pending:
        groups[(flip.connection_id, flip.stream)].append(flip)
    conn_ids = {c for c, _ in groups}
    hour_ago = now - td(hours=1)
    recent = {
        (row["connection_id"], row["stream"]): row["n"]
        for row in HealthFlip.objects.filter(connection_id__in=conn_ids, created__gte=hour_ago)
        .order_by()
        .values("connection_id", "stream")
        .annotate(n=Count("id"))
    }
    summarised = set(
        HealthFlip.objects.filter(connection_id__in=conn_ids, created__gte=hour_ago, delivery=SUMMARISED)
        .order_by()
        .values_list("connection_id", "stream")
        .distinct()
    )
    for key, flips in groups.items():
        if recent.get(key, 0) > conf.FLAP_THRESHOLD:
            mine = [f for f in flips if claim(f, now)]
            if not mine:
                continue
            if key in summarised:
                _finish(mine, SUPPRESSED, now)
                continue
            # Marked summarised even without recipients: the hour's later flips stay quiet.
            _finish(mine[:-1], SUMMARISED, now)
            HealthFlip.objects.filter(pk=mine[-1].pk).update(delivery=SUMMARISED, next_attempt_at=now)
            continue
        for flip in flips:
            if not claim(flip, now):
                continue
            if kind_of(flip) is None:
                _finish([flip], NOT_NOTIFIED, now)
            else:
                due = flip_groups.held_until(flip, now)
                HealthFlip.objects.filter(pk=flip.pk).update(next_attempt_at=due)


def send_pending_flips(now: datetime | None = None) -> int:
    """Decide new flips, then send the due ones; returns how many flips were mailed."""
    now = now or timezone.now()
    decide(now)
    HealthFlip.release_stale_claims(now)
    due = list(HealthFlip.pending(now).select_related("connection__tenant").order_by("created", "id")[:BATCH])
    if not due:
        return 0
    groups = {flip.pk: flip_groups.group_of(flip) for flip in due}
    late = {flip.pk for flip in due if flip_groups.is_late(flip, groups[flip.pk])}
    for flip in due:
        if flip.pk in late:
            flip_groups.finish_late(flip, groups[flip.pk], now)
    due = [flip for flip in due if flip.pk not in late]
    if not due:
        return 0
    audience = Audience([f for group in groups.values() for f in group])
    return sum(
        drain(
            HealthFlip,
            due,
            lambda flip: send(flip, audience, groups[flip.pk], now),
            now=now,
            skip=lambda flip: not flip_groups.is_carrier(flip, groups[flip.pk]),
        )
    )

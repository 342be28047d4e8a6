"""Email for health flips: each flip claimed with a compare-and-set, so it is sent once.

Who is told: the tenant's account managers and owners (verified, unambiguous addresses,
`tokens.recipients`) and the confirmed members of its subscription lists (with one-click
unsubscribe headers). What they are told depends on the flip:
- into late / failing / auth_failed: "down", with the reason and the last error (scrubbed);
- from one of those to ok: "recovered", with how long it was down;
- into paused: "paused" (auto-pause says why and how to resume);
- anything else but a first success (new → ok) or a resume: "changed".
A stream that flips more than HEALTH_FLAP_THRESHOLD times within an hour is "flapping":
its pending flips go out as one summary, and further flips within the hour are recorded
as suppressed instead of mailed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from datetime import timedelta as td

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from collectors import health
from collectors.health_conf import conf
from collectors.models import CollectionSchedule, HealthFlip
from integrations.models import Membership
from integrations.scrub import scrub
from tokens import mailer, recipients
from tokens.verification import unsubscribe_url

BATCH = 500
SENT, SUMMARISED, SUPPRESSED, NOT_NOTIFIED, NOBODY, FAILED = (
    "sent",
    "summarised",
    "suppressed",
    "not_notified",
    "no_recipients",
    "failed",
)


def kind_of(flip: HealthFlip) -> str | None:
    """Which message a flip gets (None: none); webhooks classify flips the same way."""
    return health.alert_kind(flip.old_status, flip.new_status)


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
    """Two workers never send the same flip: only the one whose update hit a row does."""
    return HealthFlip.objects.filter(pk=flip.pk, processed=None).update(processed=now) == 1


def _finish(flips: list[HealthFlip], delivery: str, error: str = "") -> None:
    HealthFlip.objects.filter(pk__in=[f.pk for f in flips]).update(delivery=delivery, send_error=error[:2000])


class Audience:
    """Recipients of every tenant involved, loaded in a fixed number of queries."""

    def __init__(self, tenant_ids: set[int]) -> None:
        self.members = recipients.members_by_tenant(tenant_ids, roles=Membership.MANAGING_ROLES)
        self.subscribers = recipients.subscribers_by_tenant(tenant_ids)

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
    return ctx


def _deliver(
    template: str, context: dict[str, object], audience: Audience, tenant_id: int
) -> tuple[str, str]:
    addresses, subs = audience.of(tenant_id)
    if not addresses:
        return NOBODY, "nobody verified to tell"
    report = mailer.send_to(template, context, addresses, unsubscribe_url_for=subs.get, attempts=3)
    problems = "; ".join(f"{a}: {why}" for a, why in {**report.permanent, **report.transient}.items())
    return (SENT if report.sent else FAILED), problems


def send_pending_flips(now: datetime | None = None) -> int:
    """Send unsent flips; returns how many messages went out."""
    now = now or timezone.now()
    pending = list(
        HealthFlip.objects.filter(processed=None)
        .select_related("connection__tenant")
        .order_by("created", "id")[:BATCH]
    )
    if not pending:
        return 0
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
    schedules = {
        (s.connection_id, s.stream): s
        for s in CollectionSchedule.objects.filter(connection_id__in=conn_ids).select_related("connection")
    }
    audience = Audience({f.connection.tenant_id for f in pending})

    messages = 0
    for key, flips in groups.items():
        schedule = schedules.get(key)
        tenant_id = flips[0].connection.tenant_id
        if recent.get(key, 0) > conf.FLAP_THRESHOLD:
            mine = [f for f in flips if claim(f, now)]
            if not mine:
                continue
            if key in summarised:
                _finish(mine, SUPPRESSED)
                continue
            ctx = {**_context(mine[-1], schedule), "flips": mine, "count": recent[key]}
            delivery, error = _deliver("health-flapping", ctx, audience, tenant_id)
            # Marked summarised even without recipients: the hour's later flips stay quiet.
            _finish(mine, SUMMARISED, error)
            messages += delivery == SENT
            continue
        for flip in flips:
            if not claim(flip, now):
                continue
            kind = kind_of(flip)
            if kind is None:
                _finish([flip], NOT_NOTIFIED)
                continue
            delivery, error = _deliver(f"health-{kind}", _context(flip, schedule), audience, tenant_id)
            _finish([flip], delivery, error)
            messages += delivery == SENT
    return messages

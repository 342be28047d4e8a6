"""The reminder pass: write the due stage of every token as a TokenAlert row.

Runs hourly. A tenant takes part once its local time has reached its send hour, so each
tenant hears in its own morning. The pass reads in bulk (a fixed number of queries
whatever the number of tokens) and writes with `bulk_create(ignore_conflicts=True)`
against the unique (token, expiry, stage) constraint, so two passes at once write each
stage once, and in the same transaction one webhook delivery per subscribed endpoint
(`notifications.events`). Sending is the one outbox's job (`notifications.outbox`, with
the messages composed in `tokens.outbox`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timedelta as td

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations.models import Tenant
from notifications import recipients
from notifications.events import Event, publish_all
from notifications.models import TOKEN_EXPIRED, TOKEN_REMINDER
from tokens import stages
from tokens.conf import EXPIRED
from tokens.models import (
    AccessToken,
    TenantReminderSettings,
    TokenAlert,
    TokenDigest,
    UnknownExpiryNotice,
    connections_without_token,
    local_now,
)


@dataclass(frozen=True)
class DueAlert:
    token: AccessToken
    stage: str
    day: date
    days_left: int
    unattended: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "token": self.token.pk,
            "connection": self.token.connection.key,
            "service_login": self.token.service_login,
            "expires": self.token.expires.isoformat(),
            "stage": self.stage,
            "day": self.day.isoformat(),
            "days_left": self.days_left,
            "unattended": self.unattended,
        }


@dataclass
class PassResult:
    due: list[DueAlert] = field(default_factory=list)
    written: int = 0
    digests: int = 0
    unknown_notices: int = 0
    waiting_tenants: list[str] = field(default_factory=list)  # before their send hour

    def as_dict(self) -> dict[str, object]:
        return {
            "alerts": [a.as_dict() for a in self.due],
            "written": self.written,
            "digests": self.digests,
            "unknown_expiry_notices": self.unknown_notices,
            "waiting_for_morning": self.waiting_tenants,
        }


def tenant_days(now: datetime, today: date | None) -> tuple[dict[int, tuple[Tenant, date]], list[str]]:
    """Tenants whose reminders go out now, with their local today; and those still waiting.

    `today` (the command's --today) sets the date for every tenant and ignores the hour.
    """
    ready: dict[int, tuple[Tenant, date]] = {}
    waiting: list[str] = []
    for tenant in Tenant.objects.filter(active=True).select_related("reminder_settings"):
        if today is not None:
            ready[tenant.pk] = (tenant, today)
            continue
        local = local_now(tenant, now)
        if local.hour >= TenantReminderSettings.send_hour_of(tenant):
            ready[tenant.pk] = (tenant, local.date())
        else:
            waiting.append(tenant.slug)
    return ready, waiting


def due_alerts(now: datetime | None = None, today: date | None = None) -> PassResult:
    """What the pass would write now (reads only)."""
    now = now or timezone.now()
    ready, waiting = tenant_days(now, today)
    result = PassResult(waiting_tenants=waiting)
    if not ready:
        return result
    policies = {tid: TenantReminderSettings.policy_of(t) for tid, (t, _) in ready.items()}
    horizon = max(d for _, d in ready.values()) + td(
        days=max((days for p in policies.values() for _, days in p), default=0)
    )
    tokens = list(
        AccessToken.objects.filter(connection__tenant_id__in=ready, expires__lte=horizon).select_related(
            "connection__tenant", "owner"
        )
    )
    if not tokens:
        return result
    # Stages already written, per token and expiry (one query for all tokens).
    written: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for token_id, expires, stage in TokenAlert.objects.filter(token__in=[t.pk for t in tokens]).values_list(
        "token_id", "expires", "stage"
    ):
        written[token_id].append((expires, stage))

    owners_ok = recipients.verified_emails(t.owner_id for t in tokens if t.owner_id)
    tenants_told = set(recipients.members_by_tenant(ready)) | set(recipients.subscribers_by_tenant(ready))
    for token in tokens:
        tenant_id = token.connection.tenant_id
        day = ready[tenant_id][1]
        left = (token.expires - day).days
        sent = [stage for expires, stage in written[token.pk] if expires >= token.expires]
        due = stages.stage_to_send(left, policies[tenant_id], sent)
        if due is None:
            continue
        unattended = token.owner_id not in owners_ok and tenant_id not in tenants_told
        result.due.append(DueAlert(token, due, day, left, unattended))
    return result


def run_pass(now: datetime | None = None, today: date | None = None, dry_run: bool = False) -> PassResult:
    """Write due stages (and a digest per tenant with undigested alerts) unless dry_run."""
    now = now or timezone.now()
    result = due_alerts(now, today)
    if dry_run:
        return result
    if result.due:
        rows = [
            TokenAlert(
                token=a.token,
                expires=a.token.expires,
                stage=a.stage,
                day=a.day,
                days_left=a.days_left,
                unattended=a.unattended,
                created=now,
            )
            for a in result.due
        ]
        # Another pass may have written some of these a moment ago: the constraint decides.
        # The alerts and their webhook deliveries commit together (fan-out exactly once).
        with transaction.atomic():
            before = set(TokenAlert.objects.filter(created=now).values_list("pk", flat=True))
            TokenAlert.objects.bulk_create(rows, ignore_conflicts=True)
            written = list(
                TokenAlert.objects.filter(created=now)
                .exclude(pk__in=before)
                .select_related("token__connection__tenant")
            )
            publish_all(alert_event(a) for a in written)
        result.written = len(written)
    result.digests = write_digests(now, today)
    result.unknown_notices = write_unknown_expiry_notices(now)
    return result


def write_unknown_expiry_notices(now: datetime) -> int:
    """One notice per connection whose token expiry is unknown, ever (the constraint decides)."""
    missing = list(
        connections_without_token()
        .filter(tenant__active=True, unknown_expiry_notice__isnull=True)
        .values_list("pk", flat=True)
    )
    if not missing:
        return 0
    before = UnknownExpiryNotice.objects.filter(connection_id__in=missing).count()
    UnknownExpiryNotice.objects.bulk_create(
        [UnknownExpiryNotice(connection_id=pk, created=now) for pk in missing], ignore_conflicts=True
    )
    return UnknownExpiryNotice.objects.filter(connection_id__in=missing).count() - before


def alert_event(alert: TokenAlert) -> Event:
    """A reminder stage as a webhook event (never the token's value)."""
    token = alert.token
    conn = token.connection
    return Event(
        tenant=conn.tenant,
        kind=TOKEN_EXPIRED if alert.stage == EXPIRED else TOKEN_REMINDER,
        key=f"alert:{alert.pk}",
        data={
            "service_login": token.service_login,
            "section": token.section,
            "expires": alert.expires.isoformat(),
            "days_left": alert.days_left,
            "stage": alert.stage,
            "day": alert.day.isoformat(),
            "url": settings.SITE_URL + reverse("admin:tokens_accesstoken_change", args=[token.pk]),
        },
        connection=conn,
        created=alert.created,
    )


def write_digests(now: datetime, today: date | None = None) -> int:
    """One digest row per tenant and local day while the tenant has alerts not yet in a digest."""
    ready, _ = tenant_days(now, today)
    tenant_ids = set(
        TokenAlert.objects.filter(digest=None, token__connection__tenant_id__in=ready).values_list(
            "token__connection__tenant_id", flat=True
        )
    )
    if not tenant_ids:
        return 0
    rows = [TokenDigest(tenant_id=tid, day=ready[tid][1]) for tid in tenant_ids]
    existing = TokenDigest.objects.filter(tenant_id__in=tenant_ids, day__in={r.day for r in rows}).count()
    TokenDigest.objects.bulk_create(rows, ignore_conflicts=True)
    return (
        TokenDigest.objects.filter(tenant_id__in=tenant_ids, day__in={r.day for r in rows}).count() - existing
    )


def token_plans(today: date | None = None, now: datetime | None = None) -> list[dict[str, object]]:
    """Every token's future reminder dates and stages (for `token_alerts --plan`)."""
    now = now or timezone.now()
    tokens = list(AccessToken.objects.select_related("connection__tenant__reminder_settings", "owner"))
    written: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for token_id, expires, stage in TokenAlert.objects.values_list("token_id", "expires", "stage"):
        written[token_id].append((expires, stage))
    out = []
    for token in sorted(tokens, key=lambda t: (t.expires, t.pk)):
        tenant = token.connection.tenant
        day = today or local_now(tenant, now).date()
        sent = [stage for expires, stage in written[token.pk] if expires >= token.expires]
        policy = TenantReminderSettings.policy_of(tenant)
        out.append(
            {
                "token": token.pk,
                "connection": token.connection.key,
                "service_login": token.service_login,
                "time_zone": tenant.time_zone,
                "expires": token.expires.isoformat(),
                "days_left": (token.expires - day).days,
                "plan": [
                    {"day": p.day.isoformat(), "stage": p.stage, "days_left": p.days_left}
                    for p in stages.plan(token.expires, day, policy, sent)
                ],
            }
        )
    return out

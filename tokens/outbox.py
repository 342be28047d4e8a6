"""What a token reminder and the owners' daily digest say, and to whom.

`send_pending_alerts()` is called every 30 s by `wfm_site.tasks.send_outbox` and right
after each reminder pass. The rows go through the notification app's one outbox
(`notifications.outbox`): claimed with a compare-and-set so two workers never send the
same reminder, retried with backoff across ticks, given up after NOTIFY_MAIL_MAX_ATTEMPTS.
This module only composes each message (`compose_alert`, `compose_digest`).

One mail a day per person and token: a token owner who also receives the tenant's digest
of that day (an account owner, a list member, or a manager told for lack of anyone else)
gets no separate reminder. Their reminder is folded into the digest, whose line for the
token then says so; the alert row is finished with `FOLDED` as its reason. The digest of
the alert's day must still be unsent for that: a token registered after the day's digest
went out gets its own reminder rather than waiting a day.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import Membership, Tenant
from notifications import recipients
from notifications.outbox import Mail, mail_rows
from notifications.verification import unsubscribe_url
from tokens.conf import EXPIRED
from tokens.models import AccessToken, TokenAlert, TokenDigest, UnknownExpiryNotice, connections_without_token

log = logging.getLogger(__name__)
BATCH = 500
FOLDED = "in the digest of the day (the token owner receives the digest: one mail a day)"


def token_links(token: AccessToken) -> dict[str, str]:
    return {
        "admin_url": settings.SITE_URL + reverse("admin:tokens_accesstoken_change", args=[token.pk]),
        "renew_url": settings.SITE_URL + reverse("admin:tokens_accesstoken_renew", args=[token.pk]),
    }


def token_context(token: AccessToken, stage: str, days_left: int, expires: Any) -> dict[str, Any]:
    conn = token.connection
    return {
        "token": token,
        "tenant": conn.tenant,
        "connection": conn,
        "connection_key": conn.key,
        "vendor": conn.vendor_class.label,
        "is_tcn": conn.vendor == "tcn",
        "service_login": token.service_login or "(not recorded)",
        "expires": expires,
        "days_left": days_left,
        "days_ago": -days_left,
        "stage": stage,
        "expired": stage == EXPIRED or days_left < 0,
        **token_links(token),
    }


def compose_alert(alert: TokenAlert) -> Mail | str:
    token = alert.token
    address = recipients.unambiguous_user_email(token.owner_id, token.connection.tenant_id)
    if not address:
        return "no token owner with a verified, unambiguous address"
    if address in digest_addresses_of_day(alert):
        return FOLDED
    return Mail("token-alert", token_context(token, alert.stage, alert.days_left, alert.expires), [address])


def digest_addresses_of_day(alert: TokenAlert) -> set[str]:
    """Who the tenant's digest of the alert's day will go to; empty once that digest is composed.

    The digest lists every alert not yet in a digest, so it will list this one too.
    """
    tenant = alert.token.connection.tenant
    if TokenDigest.objects.filter(tenant=tenant, day=alert.day, attempts__gt=0).exists():
        return set()
    peers = list(
        TokenAlert.objects.filter(token__connection__tenant=tenant, digest=None).select_related("token")
    )
    users, subs, _ = digest_recipients(tenant, peers)
    return {*users, *subs}


def digest_recipients(tenant: Tenant, alerts: list[TokenAlert]) -> tuple[list[str], dict[str, str], bool]:
    """(user addresses, subscriber address -> unsubscribe URL, any token nobody verified hears of)."""
    tid = tenant.pk
    owners = recipients.tenant_addresses(tenant, (Membership.OWNER,))
    subs = {s.email: unsubscribe_url(s) for s in recipients.subscribers_by_tenant([tid]).get(tid, [])}
    owner_ok = recipients.verified_emails(a.token.owner_id for a in alerts if a.token.owner_id)
    unattended = not owners and not subs and any(a.token.owner_id not in owner_ok for a in alerts)
    users = list(owners)
    if unattended:
        users += recipients.tenant_addresses(tenant, (Membership.MANAGER,))
    return sorted(set(users)), subs, unattended


def compose_digest(digest: TokenDigest) -> Mail | str:
    if digest.attempts == 0:
        TokenAlert.objects.filter(digest=None, token__connection__tenant_id=digest.tenant_id).update(
            digest=digest
        )
    alerts = list(
        digest.alerts.select_related("token__connection__tenant", "token__owner").order_by("days_left", "pk")
    )
    if not alerts:
        return "no alerts to list"
    users, subs, unattended = digest_recipients(digest.tenant, alerts)
    owner_ok = recipients.verified_emails(a.token.owner_id for a in alerts if a.token.owner_id)
    items = []
    for a in alerts:
        ctx = token_context(a.token, a.stage, a.days_left, a.expires)
        ctx["unattended"] = a.token.owner_id not in owner_ok
        # The token owner's reminder of the day is this line (see FOLDED above).
        ctx["folded"] = a.error == FOLDED
        items.append(ctx)
    context = {
        "tenant": digest.tenant,
        "day": digest.day,
        "items": items,
        "count": len(items),
        "unattended": unattended,
        "any_expired": any(i["expired"] for i in items),
    }
    if not [a for a in [*users, *subs] if a not in digest.delivered_to]:
        return "nobody verified to tell (no owner, manager or list member)"
    return Mail("token-digest", context, [*users, *subs], subs)


def compose_unknown_expiry(notice: UnknownExpiryNotice) -> Mail | str:
    conn = notice.connection
    if not connections_without_token().filter(pk=conn.pk).exists():
        return "the token was recorded before the notice went out"
    users = recipients.tenant_addresses(conn.tenant, (Membership.OWNER,))
    if not users:
        return "no account owner with a verified address"
    context = {
        "tenant": conn.tenant,
        "connection": conn,
        "connection_key": conn.key,
        "vendor": conn.vendor_class.label,
        "add_url": settings.SITE_URL
        + reverse("admin:tokens_accesstoken_add")
        + f"?connection={conn.pk}&section=realtime",
    }
    return Mail("token-unknown", context, sorted(set(users)))


def send_pending_alerts() -> int:
    """Send unsent TokenAlert and TokenDigest rows; returns how many messages went out."""
    now = timezone.now()
    alerts = TokenAlert.pending(now).select_related("token__connection__tenant", "token__owner")
    alerts = alerts.order_by("created")
    sent = mail_rows(TokenAlert, alerts[:BATCH], compose_alert, now)
    digests = TokenDigest.pending(now).select_related("tenant").order_by("day")
    sent += mail_rows(TokenDigest, digests[:BATCH], compose_digest, now)
    notices = UnknownExpiryNotice.pending(now).select_related("connection__tenant").order_by("created")
    return sent + mail_rows(UnknownExpiryNotice, notices[:BATCH], compose_unknown_expiry, now)

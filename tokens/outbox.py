"""Send unsent TokenAlert and TokenDigest rows, each claimed with a compare-and-swap.

`send_pending_alerts()` is called every 30 s by `wfm_site.tasks.send_outbox` and right
after each reminder pass. A row is sent by whichever worker wins
`filter(pk=…, sent_at=None, claimed=None).update(claimed=now)`; the loser skips it, so
two workers never send the same reminder. (A worker that dies between sending and
recording leaves a claim that expires after TOKENS_CLAIM_TIMEOUT: at-least-once then.)
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse

from integrations.models import Membership
from tokens import recipients
from tokens.conf import EXPIRED
from tokens.mailer import Report, send_to
from tokens.models import AccessToken, TokenAlert, TokenDigest
from tokens.verification import unsubscribe_url

log = logging.getLogger(__name__)
BATCH = 500


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


def send_alert(alert: TokenAlert) -> Report | None:
    token = alert.token
    address = recipients.unambiguous_user_email(token.owner_id, token.connection.tenant_id)
    if not address:
        alert.finish_without_recipients("no token owner with a verified, unambiguous address")
        return None
    ctx = token_context(token, alert.stage, alert.days_left, alert.expires)
    report = send_to("token-alert", ctx, [a for a in [address] if a not in alert.delivered_to])
    alert.record(report)
    return report


def digest_recipients(
    digest: TokenDigest, alerts: list[TokenAlert]
) -> tuple[list[str], dict[str, str], bool]:
    """(user addresses, subscriber address -> unsubscribe URL, any token nobody verified hears of)."""
    tid = digest.tenant_id
    owners = recipients.tenant_addresses(digest.tenant, (Membership.OWNER,))
    subs = {s.email: unsubscribe_url(s) for s in recipients.subscribers_by_tenant([tid]).get(tid, [])}
    owner_ok = recipients.verified_emails(a.token.owner_id for a in alerts if a.token.owner_id)
    unattended = not owners and not subs and any(a.token.owner_id not in owner_ok for a in alerts)
    users = list(owners)
    if unattended:
        users += recipients.tenant_addresses(digest.tenant, (Membership.MANAGER,))
    return sorted(set(users)), subs, unattended


def send_digest(digest: TokenDigest) -> Report | None:
    if digest.attempts == 0:
        TokenAlert.objects.filter(digest=None, token__connection__tenant_id=digest.tenant_id).update(
            digest=digest
        )
    alerts = list(
        digest.alerts.select_related("token__connection__tenant", "token__owner").order_by("days_left", "pk")
    )
    if not alerts:
        digest.finish_without_recipients("no alerts to list")
        return None
    users, subs, unattended = digest_recipients(digest, alerts)
    owner_ok = recipients.verified_emails(a.token.owner_id for a in alerts if a.token.owner_id)
    items = []
    for a in alerts:
        ctx = token_context(a.token, a.stage, a.days_left, a.expires)
        ctx["unattended"] = a.token.owner_id not in owner_ok
        items.append(ctx)
    context = {
        "tenant": digest.tenant,
        "day": digest.day,
        "items": items,
        "count": len(items),
        "unattended": unattended,
        "any_expired": any(i["expired"] for i in items),
    }
    todo = [a for a in [*users, *subs] if a not in digest.delivered_to]
    if not todo:
        digest.finish_without_recipients("nobody verified to tell (no owner, manager or list member)")
        return None
    report = send_to("token-digest", context, todo, unsubscribe_url_for=subs.get)
    digest.record(report)
    return report


def send_pending_alerts() -> int:
    """Send unsent TokenAlert and TokenDigest rows; returns how many messages went out."""
    sent = 0
    for model in (TokenAlert, TokenDigest):
        model.release_stale_claims()
    alerts = (
        TokenAlert.pending().select_related("token__connection__tenant", "token__owner").order_by("created")
    )
    for alert in alerts[:BATCH]:
        if alert.claim():
            report = send_alert(alert)
            sent += len(report.sent) if report else 0
    for digest in TokenDigest.pending().select_related("tenant").order_by("day")[:BATCH]:
        if digest.claim():
            report = send_digest(digest)
            sent += len(report.sent) if report else 0
    return sent

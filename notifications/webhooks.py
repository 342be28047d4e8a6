"""Send due webhook deliveries through the one outbox, by its rules.

`send_due()` runs every 15 s (`notifications.tasks.send_webhooks`) and drains the due
deliveries with `notifications.outbox.drain`: a delivery is sent by whichever worker wins
the compare-and-set claim, so two workers never send it twice, on SQLite or PostgreSQL,
without locks. (A worker that dies mid-send leaves a claim that is released after
WEBHOOKS_CLAIM_TIMEOUT: then the endpoint may hear of the event twice, and dedupes on the
event id.) The rules are `OutboxRow.settle`'s, with the webhook policy's numbers.

Outcomes of one try:
- 2xx: sent; the endpoint's run of failures is reset.
- 429, 5xx, a timeout or a connection error: tried again after a doubling delay with
  jitter (or after the server's Retry-After), until WEBHOOKS_MAX_ATTEMPTS.
- any other answer (4xx, a 3xx: redirects are never followed) or an address the egress
  policy refuses: given up at once; trying again will not help.
A delivery given up counts against its endpoint; WEBHOOKS_DISABLE_AFTER of them in a row
disable it and send `signals.endpoint_disabled` (`notifications.receivers` writes the
`EndpointNotice` mailed to the tenant's owners and managers at the end of the tick).
Test events are tried once and never count.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from integrations.scrub import scrub
from notifications import formats, http
from notifications.conf import app_settings
from notifications.events import Event
from notifications.models import FAILED, RETRYING, SENT, TEST, Delivery, Endpoint
from notifications.notices import send_pending_notices
from notifications.outbox import drain
from notifications.signals import endpoint_disabled

log = logging.getLogger(__name__)
EXCERPT_CHARS = 200
RECORDED = ("attempts", "last_status", "last_error", "claimed", "next_attempt_at", "sent_at", "failed")


@dataclass(frozen=True)
class Outcome:
    status: str
    http_status: int | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "http_status": self.http_status, "error": self.error}

    def line(self) -> str:
        code = f" (HTTP {self.http_status})" if self.http_status else ""
        return f"{self.status}{code}" + (f": {self.error}" if self.error else "")


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Delay before try `attempts + 1`: base · 2^(attempts-1), capped, times 0.5 to 1 (jitter).

    The jitter keeps many deliveries failing at once (an outage) from retrying in step.
    """
    return app_settings.webhook_policy().backoff(attempts, rng)


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date), if any."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:EXCERPT_CHARS]


def attempt(delivery: Delivery) -> Outcome:
    """Send a delivery this worker has claimed, once, and record what happened."""
    endpoint = delivery.endpoint
    started = timezone.now()
    body, headers = formats.render(endpoint, delivery.payload, int(started.timestamp()))
    status: int | None = None
    transient, wait, error = False, None, ""
    try:
        answer = http.post(endpoint.url, body, headers)
    except http.Refused as exc:
        error = f"refused by the egress policy: {exc}"
    except requests.Timeout:
        transient, error = True, "timed out"
    except requests.ConnectionError as exc:
        # str(exc) names the URL's path (the secret part of a chat webhook): class only.
        transient, error = True, f"could not connect ({type(exc).__name__})"
    except requests.RequestException as exc:
        error = f"could not send ({type(exc).__name__})"
    else:
        status = answer.status
        if 200 <= status < 300:
            error = ""
        elif status == 429 or status >= 500:
            transient = True
            wait = retry_after_seconds(answer.retry_after, started)
            error = f"HTTP {status}: {_excerpt(answer.excerpt)}"
        elif 300 <= status < 400:
            error = f"HTTP {status}: a redirect, not followed (enter the final URL)"
        else:
            error = f"HTTP {status}: {_excerpt(answer.excerpt)}"
    error = scrub(error, endpoint.secret_values()).strip().rstrip(":")
    return _record(delivery, status, transient, wait, error)


def _record(
    delivery: Delivery, status: int | None, transient: bool, wait: float | None, error: str
) -> Outcome:
    now = timezone.now()
    endpoint = delivery.endpoint
    delivery.last_status = status
    ok = status is not None and 200 <= status < 300
    step = delivery.settle(now, ok=ok, transient=transient, wait=wait)
    if step == SENT:
        outcome = Outcome(SENT, status)
        delivery.last_error = ""
    elif step == RETRYING:
        delivery.last_error = error[:300]
        outcome = Outcome(RETRYING, status, error[:300])
    else:
        if transient and delivery.attempts > 1:
            error = f"gave up after {delivery.attempts} attempts: {error}"
        delivery.last_error = error[:300]
        outcome = Outcome(FAILED, status, error[:300])
    delivery.save(update_fields=RECORDED)
    log.info("webhook delivery %s (%s) to %s: %s", delivery.pk, delivery.kind, endpoint.key, outcome.line())
    if delivery.kind != TEST:
        if ok:
            Endpoint.objects.filter(pk=endpoint.pk, consecutive_failures__gt=0).update(consecutive_failures=0)
        elif outcome.status == FAILED:
            _count_failure(endpoint, error, now)
    return outcome


def _count_failure(endpoint: Endpoint, error: str, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Endpoint.objects.filter(pk=endpoint.pk).values_list("consecutive_failures", flat=True).first()
    if failures is None or failures < app_settings.DISABLE_AFTER:
        return
    reason = f"disabled automatically: {failures} deliveries in a row were given up (last: {error})"[:300]
    # Of two workers giving up at once, only the one that flips `enabled` tells anybody.
    if not Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=now
    ):
        return
    endpoint.refresh_from_db()
    log.warning("notification endpoint %s %s", endpoint.key, reason)
    for receiver, result in endpoint_disabled.send_robust(sender=Endpoint, endpoint=endpoint, reason=reason):
        if isinstance(result, Exception):
            log.error("telling about disabled endpoint %s failed in %r: %s", endpoint.key, receiver, result)


def drop_for_disabled(now: datetime) -> int:
    """Deliveries waiting for an endpoint someone (or the outbox) disabled are not sent."""
    return Delivery.objects.filter(sent_at=None, claimed=None, endpoint__enabled=False).update(
        sent_at=now, failed=True, last_error="not sent: the endpoint is disabled"
    )


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Send every due delivery (up to WEBHOOKS_BATCH); returns counts per outcome."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    counts["dropped"] = drop_for_disabled(now)
    due = (
        Delivery.pending(now)
        .filter(endpoint__enabled=True)
        .select_related("endpoint__tenant")
        .order_by("next_attempt_at", "id")[: app_settings.BATCH]
    )
    struggling: set[int] = set()

    def send(delivery: Delivery) -> Outcome:
        outcome = attempt(delivery)
        if outcome.status != SENT:
            struggling.add(delivery.endpoint_id)
        return outcome

    def skip(delivery: Delivery) -> bool:
        # An endpoint that just failed to answer is not tried again in this tick: one
        # slow receiver must not hold up everybody else's deliveries.
        return delivery.endpoint_id in struggling

    counts.update(o.status for o in drain(Delivery, due, send, now=now, skip=skip))
    # The owners hear of an endpoint this tick disabled (or an earlier one failed to tell).
    send_pending_notices(now)
    return {k: v for k, v in counts.items() if v}


def send_test(endpoint: Endpoint) -> tuple[Delivery, Outcome]:
    """Send a test event to one endpoint now (enabled or not), once, and say what happened."""
    now = timezone.now()
    event_id = uuid.uuid4()
    admin_url = settings.SITE_URL + reverse("admin:notifications_endpoint_change", args=[endpoint.pk])
    event = Event(endpoint.tenant, TEST, f"test:{event_id}", {"endpoint": endpoint.name, "url": admin_url})
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        key=event.key,
        kind=TEST,
        payload=event.payload(event_id),
        created=now,
        next_attempt_at=now,
        claimed=now,  # never picked up by the beat task: this call sends it
    )
    delivery.endpoint = endpoint
    return delivery, attempt(delivery)

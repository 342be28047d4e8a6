"""Publish an event: one delivery row per enabled endpoint of the tenant that wants it.

Callers publish inside the transaction that records what happened (the HealthFlip, the
TokenAlert), so the fan-out commits or rolls back with it: an event is never lost
between the two writes, and never fanned out for a flip that was rolled back. The
deliveries are unique per (endpoint, key), so publishing the same cause twice (two
reminder passes in the same instant) fans it out once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from integrations.models import Tenant, VendorConnection
from notifications.models import EVENT_KEYS, TEST, Delivery, Endpoint, _iso


@dataclass(frozen=True)
class Event:
    tenant: Tenant
    kind: str
    key: str
    data: dict[str, Any]
    connection: VendorConnection | None = None
    created: datetime = field(default_factory=timezone.now)

    def payload(self, event_id: uuid.UUID) -> dict[str, Any]:
        """The envelope every endpoint kind is rendered from (docs/webhooks.md, "Payload")."""
        conn = self.connection
        return {
            "id": str(event_id),
            "type": self.kind,
            "created": _iso(self.created),
            "tenant": {"slug": self.tenant.slug, "name": self.tenant.name},
            "connection": (
                {"key": conn.key, "name": conn.name, "vendor": conn.vendor} if conn is not None else None
            ),
            "data": self.data,
        }


def publish(
    tenant: Tenant,
    kind: str,
    payload: dict[str, Any],
    connection: VendorConnection | None = None,
    *,
    key: str,
    created: datetime | None = None,
) -> int:
    """Fan one event out to the tenant's subscribed, enabled endpoints; returns rows offered."""
    event = Event(tenant, kind, key, payload, connection, created or timezone.now())
    return publish_all([event])


def publish_all(events: Iterable[Event]) -> int:
    """Fan many events out with two queries, whatever their number (the reminder pass)."""
    events = list(events)
    for event in events:
        if event.kind not in EVENT_KEYS and event.kind != TEST:
            raise ValueError(f"unknown event kind {event.kind!r}; use one of {', '.join(EVENT_KEYS)}")
    if not events:
        return 0
    endpoints: dict[int, list[Endpoint]] = defaultdict(list)
    # Subscriptions are filtered here rather than in SQL: JSON containment is not portable
    # to SQLite, and a tenant has a handful of endpoints.
    for endpoint in Endpoint.objects.filter(tenant_id__in={e.tenant.pk for e in events}, enabled=True):
        endpoints[endpoint.tenant_id].append(endpoint)
    rows = []
    for event in events:
        event_id = uuid.uuid4()
        payload = event.payload(event_id)
        for endpoint in endpoints.get(event.tenant.pk, ()):
            if endpoint.wants(event.kind):
                rows.append(
                    Delivery(
                        endpoint=endpoint,
                        event_id=event_id,
                        key=event.key,
                        kind=event.kind,
                        payload=payload,
                        created=event.created,
                        next_attempt_at=event.created,
                    )
                )
    if not rows:
        return 0
    # A cause published twice (two passes at one instant): the unique constraint decides.
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)

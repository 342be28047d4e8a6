"""The notification app's models: the one outbox's rules, people who may be told, endpoints."""

from __future__ import annotations

from notifications.models.endpoints import (
    EVENT_KEYS,
    EVENTS,
    STREAM_DOWN,
    STREAM_PAUSED,
    STREAM_RECOVERED,
    TEST,
    TOKEN_EXPIRED,
    TOKEN_REMINDER,
    Delivery,
    Endpoint,
    EndpointNotice,
    _iso,
)
from notifications.models.outbox import FAILED, RETRYING, SENT, MailRow, OutboxRow
from notifications.models.people import (
    EmailAddress,
    Subscriber,
    SubscriptionList,
    address_clash,
    is_role_address,
)

__all__ = [
    "EVENTS",
    "EVENT_KEYS",
    "FAILED",
    "RETRYING",
    "SENT",
    "STREAM_DOWN",
    "STREAM_PAUSED",
    "STREAM_RECOVERED",
    "TEST",
    "TOKEN_EXPIRED",
    "TOKEN_REMINDER",
    "Delivery",
    "EmailAddress",
    "Endpoint",
    "EndpointNotice",
    "MailRow",
    "OutboxRow",
    "Subscriber",
    "SubscriptionList",
    "_iso",
    "address_clash",
    "is_role_address",
]

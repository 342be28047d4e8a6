"""Notification endpoints of a tenant (webhook, Slack, Teams) and their deliveries.

An `Endpoint` keeps its URL and signing secret encrypted (a chat webhook URL is itself
the credential). A `Delivery` is one event for one endpoint: both its history and its
row in the one outbox (`OutboxRow`: claimed with a compare-and-set so two workers never
send it twice), unique per (endpoint, key) so an event fans out to an endpoint at most once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations import validators
from integrations.crypto import EncryptedJSONField, SecretDict
from integrations.models import Tenant
from notifications.conf import Policy, app_settings
from notifications.models.outbox import MailRow, OutboxRow

# Events an endpoint may subscribe to; `test` is sent on request to any endpoint.
STREAM_DOWN, STREAM_RECOVERED, STREAM_PAUSED = "stream.down", "stream.recovered", "stream.paused"
TOKEN_REMINDER, TOKEN_EXPIRED, TEST = "token.reminder", "token.expired", "test"
EVENTS = (
    (STREAM_DOWN, "Stream down (late, failing or credentials refused)"),
    (STREAM_RECOVERED, "Stream recovered"),
    (STREAM_PAUSED, "Stream paused (by a person or automatically)"),
    (TOKEN_REMINDER, "Token reminder stage (90, 60, 30 days … expires today)"),
    (TOKEN_EXPIRED, "Token expired"),
)
EVENT_KEYS = tuple(key for key, _ in EVENTS)


class EndpointQuerySet(models.QuerySet["Endpoint"]):
    def get_by_key(self, key: str) -> Endpoint:
        """Find an endpoint by `tenant-slug/endpoint-name` (raises DoesNotExist)."""
        slug, sep, name = key.partition("/")
        if not sep or not slug or not name:
            raise self.model.DoesNotExist(f"{key!r} is not of the form tenant-slug/endpoint-name")
        try:
            return self.select_related("tenant").get(tenant__slug=slug, name=name)
        except self.model.DoesNotExist:
            raise self.model.DoesNotExist(f"no notification endpoint {key!r}") from None


class Endpoint(models.Model):
    WEBHOOK, SLACK, TEAMS = "webhook", "slack", "teams"
    KINDS = (
        (WEBHOOK, "Webhook (signed JSON)"),
        (SLACK, "Slack incoming webhook"),
        (TEAMS, "Microsoft Teams workflow webhook"),
    )

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="notification_endpoints")
    name = models.CharField(max_length=64, validators=[validators.connection_name])
    kind = models.CharField(max_length=16, choices=KINDS)
    # {"url": …, "secret": …}: the URL of a chat webhook is its credential.
    secrets = EncryptedJSONField(default=dict, blank=True, editable=False)
    # Scheme and host only, so the admin and commands can say where it points.
    url_hint = models.CharField("URL", max_length=300, blank=True, editable=False)
    events = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries given up in a row; reset by the next success."
    )
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ("tenant__name", "name")
        verbose_name = "notification endpoint"
        constraints = [
            models.UniqueConstraint(fields=("tenant", "name"), name="endpoint_name_unique_in_tenant"),
            models.CheckConstraint(
                condition=Q(kind__in=("webhook", "slack", "teams")), name="endpoint_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"<Endpoint {self.pk}: {self.key} ({self.kind})>"

    @property
    def key(self) -> str:
        return f"{self.tenant.slug}/{self.name}"

    @property
    def url(self) -> str:
        return self.secrets.get("url", "")

    @property
    def secret(self) -> str:
        return self.secrets.get("secret", "")

    def set_url(self, url: str) -> None:
        # A SecretDict: a traceback or a shell never prints the values.
        self.secrets = SecretDict({**self.secrets, "url": url})
        parts = urlsplit(url)
        self.url_hint = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"

    def set_secret(self, secret: str) -> None:
        self.secrets = SecretDict({**self.secrets, "secret": secret})

    def secret_values(self) -> list[str]:
        """Every secret string of this endpoint, for scrubbing answers and errors."""
        out = [v for v in (self.url, self.secret) if v]
        parts = urlsplit(self.url)
        # Servers echo the path or the query (Teams' sig=…) without the host.
        out += [p for p in (parts.path, parts.query) if len(p) > 4]
        return out

    def wants(self, kind: str) -> bool:
        return kind == TEST or kind in (self.events or ())


class Delivery(OutboxRow):
    endpoint = models.ForeignKey(Endpoint, models.CASCADE, related_name="deliveries")
    # The same for every endpoint told of one event: receivers dedupe on it.
    event_id = models.UUIDField(default=uuid.uuid4)
    # What caused it ("flip:12", "alert:7", "test:<uuid>"): at most one delivery per
    # endpoint and cause, however often the cause is published.
    key = models.CharField(max_length=100)
    kind = models.CharField(max_length=32)
    payload = models.JSONField()
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveSmallIntegerField("last HTTP status", null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created", "-id")
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=("endpoint", "key"), name="delivery_once_per_endpoint_and_cause")
        ]
        indexes = [
            # The due scan is a range scan over unfinished rows only.
            models.Index(fields=("next_attempt_at",), condition=Q(sent_at=None), name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.endpoint_id} ({self.status})"

    @classmethod
    def policy(cls) -> Policy:
        return app_settings.webhook_policy()

    @classmethod
    def queue(cls) -> models.QuerySet[Delivery]:
        # A test event is sent by the request that asked for it, never by the beat task.
        return cls.objects.exclude(kind=TEST)

    def max_attempts(self) -> int:
        return 1 if self.kind == TEST else super().max_attempts()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "event_id": str(self.event_id),
            "kind": self.kind,
            "status": self.status,
            "created": _iso(self.created),
            "attempts": self.attempts,
            "next_attempt_at": _iso(self.next_attempt_at) if self.sent_at is None else None,
            "finished": _iso(self.sent_at),
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


class EndpointNotice(MailRow):
    """The email telling a tenant's owners and managers that an endpoint was disabled."""

    endpoint = models.ForeignKey(Endpoint, models.CASCADE, related_name="notices")
    reason = models.CharField(max_length=300)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created", "-id")
        indexes = [
            models.Index(
                fields=("next_attempt_at",), condition=Q(sent_at=None), name="endpoint_notice_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id} disabled ({self.status})"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

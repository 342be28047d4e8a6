"""Per-tenant API keys: shown once, stored hashed, found by a short prefix.

Modelled on healthchecks' `hcw_`/`hcr_` keys: the key carries a recognisable prefix, the
database keeps only a digest, and a lookup reads one row by its indexed prefix and compares
digests in constant time. The key is long and random, so a plain SHA-256 suffices (a slow
password hash would cost every request and protect nothing a 240-bit secret does not).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from api.conf import app_settings
from integrations.models import Membership, Tenant

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User

KEY_MARK = "sbk_"
PREFIX_LENGTH = 8
DATA_READ = "data:read"
HEALTH_READ = "health:read"
TOKENS_READ = "tokens:read"
SCOPES = (
    (DATA_READ, "data:read: connections, queues, agents, intervals, agent states"),
    (HEALTH_READ, "health:read: connections, stream health, collection runs"),
    (TOKENS_READ, "tokens:read: token expiries (never a value); owners and managers only"),
)
SCOPE_NAMES = tuple(name for name, _label in SCOPES)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def manages(user: User | None, tenant: Tenant) -> bool:
    """May this user hold tokens:read in this tenant (superuser, owner or manager)?"""
    if user is None:
        return False
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, tenant=tenant, role__in=Membership.MANAGING_ROLES).exists()


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def managed_by(self, user: Any) -> ApiKeyQuerySet:
        return self.filter(tenant__in=Tenant.objects.managed_by(user))

    def live(self) -> ApiKeyQuerySet:
        return self.filter(revoked__isnull=True)


class ApiKey(models.Model):
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What uses the key, e.g. “WFM nightly sync”.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_digest = models.CharField(max_length=64, editable=False)
    # Space-separated scope names (see SCOPES).
    scopes = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ("tenant__name", "name")
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(
                fields=("tenant", "name"), condition=Q(revoked__isnull=True), name="api_key_live_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        return f"{KEY_MARK}{self.prefix}…"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s]

    # --- creation ------------------------------------------------------------------------
    @staticmethod
    def check_scopes(tenant: Tenant, scopes: list[str], created_by: User | None) -> list[str]:
        """The scopes, deduplicated in a fixed order; ValidationError naming what is wrong."""
        unknown = sorted(set(scopes) - set(SCOPE_NAMES))
        if unknown:
            raise ValidationError(f"unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPE_NAMES)}")
        if not scopes:
            raise ValidationError(f"give at least one scope ({', '.join(SCOPE_NAMES)})")
        if TOKENS_READ in scopes and created_by is not None and not manages(created_by, tenant):
            raise ValidationError(
                f"{created_by} is not an owner or manager of {tenant.slug}: a partner's key "
                "can never hold tokens:read"
            )
        return [s for s in SCOPE_NAMES if s in scopes]

    @classmethod
    def create(
        cls, tenant: Tenant, name: str, scopes: list[str], created_by: User | None = None
    ) -> tuple[ApiKey, str]:
        """A new key and its plain text, which is never stored and never shown again."""
        name = name.strip()
        if not name:
            raise ValidationError("the key needs a name")
        scopes = cls.check_scopes(tenant, scopes, created_by)
        if cls.objects.live().filter(tenant=tenant, name=name).exists():
            raise ValidationError(f"{tenant.slug} already has a key named {name!r}")
        for _attempt in range(5):
            plain = KEY_MARK + secrets.token_urlsafe(30)
            key = cls(
                tenant=tenant,
                name=name,
                prefix=plain[len(KEY_MARK) : len(KEY_MARK) + PREFIX_LENGTH],
                key_digest=digest(plain),
                scopes=" ".join(scopes),
                created_by=created_by,
            )
            try:
                with transaction.atomic():
                    key.save()
            except IntegrityError:
                if cls.objects.filter(prefix=key.prefix).exists():
                    continue  # a prefix already taken (1 in 2^48): draw again
                raise ValidationError(f"{tenant.slug} already has a key named {name!r}") from None
            return key, plain
        raise RuntimeError("could not draw an unused key prefix")

    # --- use -----------------------------------------------------------------------------
    @classmethod
    def find(cls, plain: str) -> ApiKey | None:
        """The live key with this plain text, or None (unknown, malformed or revoked)."""
        if not plain.startswith(KEY_MARK) or len(plain) < len(KEY_MARK) + PREFIX_LENGTH + 16:
            return None
        prefix = plain[len(KEY_MARK) : len(KEY_MARK) + PREFIX_LENGTH]
        key = cls.objects.select_related("tenant", "created_by").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.key_digest, digest(plain)):
            return None
        if key.revoked is not None or not key.tenant.active:
            return None
        return key

    def allows(self, scope: str) -> bool:
        """Does the key hold this scope now? tokens:read also needs its creator to still manage.

        A key made by a manager who is later made a partner (or leaves) loses tokens:read
        at once; a key made by an operator on the command line (no creator) keeps it.
        """
        if scope not in self.scope_list:
            return False
        if scope == TOKENS_READ and self.created_by_id is not None:
            return manages(self.created_by, self.tenant)
        return True

    def touch(self, now: datetime | None = None) -> None:
        """Record use, at most once per LAST_USED_RESOLUTION: not a write per request."""
        now = now or timezone.now()
        if self.last_used is not None and now - self.last_used < app_settings.LAST_USED_RESOLUTION:
            return
        # The condition makes concurrent requests write once between them.
        cutoff = now - app_settings.LAST_USED_RESOLUTION
        type(self).objects.filter(pk=self.pk).filter(
            Q(last_used__isnull=True) | Q(last_used__lt=cutoff)
        ).update(last_used=now)
        self.last_used = now

    def revoke(self, now: datetime | None = None) -> bool:
        """Revoke the key; False if it already was."""
        now = now or timezone.now()
        done = type(self).objects.filter(pk=self.pk, revoked__isnull=True).update(revoked=now)
        if done:
            self.revoked = now
        return bool(done)

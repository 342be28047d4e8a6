"""People who may be told: users' addresses and their verification, subscription lists.

Only a verified `EmailAddress` (the user's current address) and a confirmed, still
subscribed `Subscriber` are ever written to (`notifications.recipients`). These tables
were the tokens app's; the migrations that moved them here kept their rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from integrations.models import Tenant
from notifications.conf import app_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _normal(email: str) -> str:
    return (email or "").strip().lower()


def is_role_address(email: str, allowed: Iterable[str] = ()) -> bool:
    """Whether an address names a group or a role (`helpdesk@`, `cc-ops@`), not a person.

    The local part (without a `+tag`) is a role address when it, or one of its words
    (split at `.`, `-`, `_`), is in TOKENS_ROLE_ADDRESSES: `support@`, `it-support@` and
    `cc-ops@` are, `jane.doe@` is not. `allowed` holds a tenant's exceptions: whole
    addresses, or local parts allowed at any domain.
    """
    address = _normal(email)
    local = address.partition("@")[0].partition("+")[0]
    exceptions = {_normal(a) for a in allowed}
    if address in exceptions or local in exceptions:
        return False
    roles = set(app_settings.ROLE_ADDRESS_PREFIXES)
    return local in roles or any(word in roles for word in re.split(r"[.\-_]", local))


def address_clash(
    email: str, tenants: models.QuerySet[Tenant], user: Any = None
) -> tuple[User, Tenant] | None:
    """Another user with this address who is a member of one of `tenants` (and that tenant).

    Within a tenant an address belongs to one user only; across tenants it may repeat.
    """
    from django.contrib.auth import get_user_model

    address = _normal(email)
    if not address:
        return None
    others = get_user_model().objects.filter(email__iexact=address, memberships__tenant__in=tenants)
    if user is not None and user.pk:
        others = others.exclude(pk=user.pk)
    other = others.order_by("pk").first()
    if other is None:
        return None
    return other, tenants.filter(memberships__user=other).order_by("pk").first()  # type: ignore[return-value]  # a member, so a tenant


class EmailAddress(models.Model):
    """Verification state of a user's address (the user's current `email`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="token_email_addresses")
    email = models.EmailField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "email address"
        verbose_name_plural = "email addresses"
        ordering = ("email",)
        constraints = [models.UniqueConstraint(fields=("user", "email"), name="email_address_per_user")]

    def __str__(self) -> str:
        return self.email

    @classmethod
    def for_user(cls, user: User) -> EmailAddress | None:
        email = _normal(getattr(user, "email", ""))
        if not email:
            return None
        row, _ = cls.objects.get_or_create(user=user, email=email)
        return row

    @property
    def is_current(self) -> bool:
        return _normal(self.user.email) == self.email

    @property
    def state(self) -> str:
        if not self.is_current:
            return "replaced"
        if self.verified_at:
            return "verified"
        return "link sent" if self.verification_sent_at else "unverified"

    @property
    def is_role_address(self) -> bool:
        return is_role_address(self.email)

    def clashes(self, within: models.QuerySet[Tenant] | None = None) -> list[tuple[User, Tenant | None]]:
        """Other users with this address in a tenant this user belongs to.

        `within` limits the search to those tenants: the admin shows a manager only the
        clashes in tenants they manage, while `confirm` refuses a clash anywhere.
        """
        from django.contrib.auth import get_user_model

        tenants = Tenant.objects.filter(memberships__user=self.user)
        if within is not None:
            tenants = tenants.filter(pk__in=within.values("pk"))
        others = (
            get_user_model()
            .objects.filter(email__iexact=self.email, memberships__tenant__in=tenants)
            .exclude(pk=self.user_id)
            .distinct()
        )
        out = []
        for other in others:
            out.append((other, tenants.filter(memberships__user=other).first()))
        return out

    def confirm(self) -> None:
        clash = self.clashes()
        if clash:
            other, tenant = clash[0]
            raise ValidationError(
                f"{self.email} already belongs to {other} in {tenant}; within a tenant an address "
                "belongs to one user only."
            )
        if not self.is_current:
            raise ValidationError(f"{self.email} is no longer this user's address.")
        if self.verified_at is None:
            self.verified_at = timezone.now()
            self.save(update_fields=["verified_at"])


class SubscriptionList(models.Model):
    """A tenant's named list of people without a login who want its token digest and health alerts."""

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="subscription_lists")
    name = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("tenant__name", "name")
        constraints = [
            models.UniqueConstraint(fields=("tenant", "name"), name="subscription_list_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant} · {self.name}"


class Subscriber(models.Model):
    """Double opt-in: a member receives mail only after confirming, until they leave."""

    list = models.ForeignKey(SubscriptionList, models.CASCADE, related_name="subscribers")
    email = models.EmailField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("email",)
        constraints = [models.UniqueConstraint(fields=("list", "email"), name="subscriber_once_per_list")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = _normal(self.email)
        super().save(*args, **kwargs)

    @property
    def state(self) -> str:
        if self.unsubscribed_at:
            return "left"
        if self.confirmed_at:
            return "confirmed"
        return "awaiting confirmation" if self.confirmation_sent_at else "not confirmed"

    @property
    def active(self) -> bool:
        return bool(self.confirmed_at and not self.unsubscribed_at)

"""Tenants, memberships and roles, and vendor connections with encrypted credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from integrations import validators
from integrations.crypto import EncryptedJSONField, SecretDict
from integrations.egress import EgressError, UnresolvedHost, check_url
from integrations.vendors import VENDORS, get_vendor, vendor_choices
from integrations.vendors.base import HISTORY, REALTIME, ConnectionSettings, Section

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from integrations.vendors.base import Vendor

    User = AbstractBaseUser | AnonymousUser


class TenantQuerySet(models.QuerySet["Tenant"]):
    def visible_to(self, user: User) -> TenantQuerySet:
        """Superusers see every tenant; everybody else only the tenants they belong to."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user).distinct()

    def managed_by(self, user: User) -> TenantQuerySet:
        """Tenants where the user may change connections and see tokens (not partners)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user, memberships__role__in=Membership.MANAGING_ROLES).distinct()


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=60, unique=True, validators=[validators.slug])
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validators.time_zone],
        help_text="Reminder days are counted in this zone (IANA name).",
    )
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    OWNER = "owner"
    MANAGER = "manager"
    PARTNER = "partner"
    ROLES = (
        (OWNER, "Account owner"),
        (MANAGER, "Account manager"),
        (PARTNER, "Partner (no token access)"),
    )
    # Roles that may manage connections and tokens. Partners never may (TCN seed:
    # "3rd parties should not manage access tokens").
    MANAGING_ROLES = (OWNER, MANAGER)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=ROLES)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "tenant"), name="membership_user_tenant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} ({self.get_role_display()})"


class ConnectionQuerySet(models.QuerySet["VendorConnection"]):
    def visible_to(self, user: User) -> ConnectionQuerySet:
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        return self.filter(tenant__in=Tenant.objects.visible_to(user))

    def managed_by(self, user: User) -> ConnectionQuerySet:
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        return self.filter(tenant__in=Tenant.objects.managed_by(user))

    def get_by_key(self, key: str) -> VendorConnection:
        """Find a connection by `tenant-slug/connection-name` (raises DoesNotExist)."""
        slug, sep, name = key.partition("/")
        if not sep or not slug or not name:
            raise self.model.DoesNotExist(f"{key!r} is not of the form tenant-slug/connection-name")
        try:
            return self.select_related("tenant").get(tenant__slug=slug, name=name)
        except self.model.DoesNotExist:
            raise self.model.DoesNotExist(f"no connection {key!r}") from None


class VendorConnection(models.Model):
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="connections")
    vendor = models.CharField(max_length=16, choices=vendor_choices())
    name = models.CharField(max_length=64, validators=[validators.connection_name])
    enabled = models.BooleanField(default=True)

    realtime_base_url = models.CharField(
        "real-time base URL", max_length=500, validators=[validators.http_url]
    )
    history_base_url = models.CharField(
        "historical base URL",
        max_length=500,
        blank=True,
        validators=[validators.http_url],
        help_text="Leave blank to use the real-time base URL.",
    )
    # Non-secret per-vendor values (e.g. the 8x8 tenant name, a Nextiva username, the
    # TCN drop folder) and the encrypted secret ones, per section, as the vendor declares.
    realtime_values = models.JSONField(default=dict, blank=True)
    history_values = models.JSONField(default=dict, blank=True)
    realtime_secrets = EncryptedJSONField(default=dict, blank=True, editable=False)
    history_secrets = EncryptedJSONField(default=dict, blank=True, editable=False)

    interval_seconds = models.PositiveIntegerField(
        "transaction collection interval (seconds)",
        validators=[validators.interval_seconds],
        help_text="How often agent states are polled.",
    )
    time_zone = models.CharField(
        max_length=64,
        validators=[validators.time_zone],
        help_text="Zone of the vendor's local timestamps (TCN reports US Pacific time).",
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="Vendor options (endpoint paths, file column mapping); see the README.",
    )
    state_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Custom vendor states to neutral states, e.g. {"Lunch": "break"}.',
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ("tenant__name", "name")
        constraints = [
            models.UniqueConstraint(fields=("tenant", "name"), name="connection_name_unique_in_tenant"),
            models.CheckConstraint(
                condition=Q(interval_seconds__gte=validators.MIN_INTERVAL_SECONDS)
                & Q(interval_seconds__lte=validators.MAX_INTERVAL_SECONDS),
                name="connection_interval_in_range",
            ),
            models.CheckConstraint(condition=Q(vendor__in=list(VENDORS)), name="connection_vendor_known"),
        ]

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"<VendorConnection {self.pk}: {self.key} ({self.vendor})>"

    @property
    def key(self) -> str:
        return f"{self.tenant.slug}/{self.name}"

    @property
    def vendor_class(self) -> type[Vendor]:
        return get_vendor(self.vendor)

    def apply_vendor_defaults(self) -> None:
        """Fill interval, zone and base URL from the vendor's declaration where unset."""
        vendor = self.vendor_class
        if not self.interval_seconds:
            self.interval_seconds = vendor.default_interval_seconds
        if not self.time_zone:
            self.time_zone = vendor.default_time_zone
        if not self.realtime_base_url and vendor.default_base_url:
            self.realtime_base_url = vendor.default_base_url

    # --- credentials -------------------------------------------------------------------
    def values_of(self, section: str) -> dict[str, str]:
        """All field values of a section, secrets decrypted; history falls back to real-time."""
        own = {**self.realtime_values, **self.realtime_secrets}
        if section == REALTIME:
            return own
        hist = {k: v for k, v in {**self.history_values, **self.history_secrets}.items() if v}
        return {**own, **hist}

    def set_values(self, section: str, values: dict[str, Any]) -> None:
        """Store a section's field values, splitting secrets from the rest by declaration.

        A secret left out (or empty) keeps its stored value, so forms never have to echo it.
        """
        secret_names = self.vendor_class.secret_names(section)
        plain = {k: str(v) for k, v in values.items() if k not in secret_names and v not in (None, "")}
        stored = self.realtime_secrets if section == REALTIME else self.history_secrets
        secrets = SecretDict(stored)
        for name in secret_names:
            if values.get(name):
                secrets[name] = str(values[name])
        if section == REALTIME:
            self.realtime_values, self.realtime_secrets = plain, secrets
        else:
            self.history_values, self.history_secrets = plain, secrets
        # Which secrets this save was given afresh (see _check_secrets_follow_their_host).
        self._secrets_given = {
            **getattr(self, "_secrets_given", {}),
            section: {name for name in secret_names if values.get(name)},
        }

    def secret_values(self) -> list[str]:
        """Every secret of this connection, for scrubbing text before it is stored."""
        return [v for v in (*self.realtime_secrets.values(), *self.history_secrets.values()) if v]

    def connection_settings(self) -> ConnectionSettings:
        vendor = self.vendor_class
        return ConnectionSettings(
            key=self.key,
            vendor=self.vendor,
            realtime=Section(self.realtime_base_url, self.values_of(REALTIME)),
            history=Section(self.history_base_url or self.realtime_base_url, self.values_of(HISTORY)),
            time_zone=self.time_zone or vendor.default_time_zone,
            interval_seconds=self.interval_seconds or vendor.default_interval_seconds,
            options={**vendor.default_options, **(self.options or {})},
            state_map=dict(self.state_map or {}),
        )

    def _check_secrets_follow_their_host(self, errors: dict[str, str]) -> None:
        """A stored secret is only sent to the host it was entered for.

        Without this, anyone allowed to edit a connection but never shown its token could
        point the base URL at their own server, press "Test connection" and receive it.
        Moving a section to another origin therefore needs its secrets entered again.
        """
        if self.pk is None:
            return
        old = type(self).objects.filter(pk=self.pk).values("realtime_base_url", "history_base_url").first()
        if old is None:
            return
        given = getattr(self, "_secrets_given", {})
        old_history = old["history_base_url"] or old["realtime_base_url"]
        new_history = self.history_base_url or self.realtime_base_url
        moves = (
            (
                REALTIME,
                old["realtime_base_url"],
                self.realtime_base_url,
                self.realtime_secrets,
                given.get(REALTIME, set()),
            ),
            # The history section sends its own secrets and, where blank, the real-time ones.
            (
                HISTORY,
                old_history,
                new_history,
                {**self.realtime_secrets, **self.history_secrets},
                given.get(REALTIME, set()) | given.get(HISTORY, set()),
            ),
        )
        for section, before, after, stored, fresh in moves:
            if _origin(before) == _origin(after):
                continue
            for field in self.vendor_class.fields(section):
                if field.secret and stored.get(field.name) and field.name not in fresh:
                    errors.setdefault(
                        f"{section}_{field.name}",
                        f"The base URL now points at another host: enter the {field.label.lower()} "
                        "again (a stored secret is only ever sent to the host it was entered for).",
                    )

    def _check_egress(self, errors: dict[str, str]) -> None:
        """Refuse base URLs the egress policy would refuse at request time (docs/security.md).

        A name that does not resolve now is accepted: every request checks again, and a
        connection may well be set up before its vendor's DNS exists.
        """
        for name in ("realtime_base_url", "history_base_url"):
            url = getattr(self, name)
            if not url:
                continue
            try:
                validators.http_url(url)
            except ValidationError:
                continue  # the field's own validator reports it
            try:
                check_url(url)
            except UnresolvedHost:
                continue
            except EgressError as exc:
                errors.setdefault(name, str(exc))

    def clean(self) -> None:
        if self.vendor not in VENDORS:
            raise ValidationError({"vendor": f"unknown vendor {self.vendor!r}"})
        self.apply_vendor_defaults()
        vendor = self.vendor_class
        errors: dict[str, str] = {}
        realtime = self.values_of(REALTIME)
        for field in vendor.realtime_fields:
            if field.required and not realtime.get(field.name):
                errors[f"realtime_{field.name}"] = f"{field.label} is required for {vendor.label}."
        history = self.values_of(HISTORY)
        for field in vendor.history_fields:
            if field.required and not history.get(field.name):
                errors[f"history_{field.name}"] = f"{field.label} is required for {vendor.label}."
        for section, values in ((REALTIME, realtime), (HISTORY, history)):
            for name, message in vendor.validate_values(section, values).items():
                errors[f"{section}_{name}"] = message
        self._check_secrets_follow_their_host(errors)
        self._check_egress(errors)
        if isinstance(self.state_map, dict):
            from integrations.vendors.records import NEUTRAL_STATES

            bad = {k: v for k, v in self.state_map.items() if v not in NEUTRAL_STATES}
            if bad:
                errors["state_map"] = (
                    f"unknown neutral state(s) {sorted(set(bad.values()))}; "
                    f"use one of {', '.join(NEUTRAL_STATES)}"
                )
        else:
            errors["state_map"] = "must be an object mapping vendor states to neutral states"
        if errors:
            raise ValidationError(errors)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url or "")
    try:
        port = parts.port
    except ValueError:  # a malformed port: the URL validator reports it
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port

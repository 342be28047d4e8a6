"""Tenants, memberships and roles, and vendor connections with encrypted credentials."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q

from integrations import drop_folders, validators
from integrations.crypto import EncryptedJSONField, SecretDict
from integrations.egress import EgressError, UnresolvedHost, check_url
from integrations.vendors import get_vendor, is_known, validate_key, vendors_supplying
from integrations.vendors.base import HISTORY, REALTIME, STREAM_FILE_DROP, ConnectionSettings, Section

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as AuthUser

    from integrations.vendors.base import Vendor

    User = AuthUser | AnonymousUser


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
    # Collected data (agent state events, interval volume) older than this is pruned; empty
    # keeps it (the default: it is the customer's data, and the WFM system may still read it).
    data_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(30)],
        help_text="Delete agent state events and interval volume older than this many days "
        "(at least 30). Empty keeps them.",
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The slug names the tenant's drop folders (DROP_ROOT/<slug>/…), its default FTP
        # logins and its CONN keys. Renamed, its folders would be left to whichever tenant
        # takes the old slug next, with every file an uploader still sends there.
        if self.pk is None:
            return
        old = type(self).objects.filter(pk=self.pk).values_list("slug", flat=True).first()
        if old is not None and old != self.slug and self.connections.exists():
            raise ValidationError(
                {
                    "slug": f"This tenant has connections: its slug ({old}) names their drop folders, "
                    "FTP logins and command-line keys, so it cannot change."
                }
            )


class MembershipQuerySet(models.QuerySet["Membership"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete, unless a tenant would lose its last owner or its last manager."""
        with transaction.atomic():
            problems = orphan_problems(removed=set(self.values_list("pk", flat=True)))
            if problems:
                raise ValidationError(problems)
            return super().delete()


def orphan_problems(
    removed: AbstractSet[int] = frozenset(),
    changed: dict[int, tuple[int, str]] | None = None,
    lock: bool = True,
) -> list[str]:
    """What a change of memberships would break: a tenant left without its last account
    owner, or without anyone (owner or account manager) who can manage it.

    `removed` are membership ids to delete, `changed` maps ids to their new (tenant id,
    role). Tenants that had no owner (or no manager) before are not held to having one.
    With `lock` the tenants' rows are locked first (call it inside a transaction), so two
    managers demoting each other at once cannot both pass.
    """
    changed = changed or {}
    ids = set(removed) | set(changed)
    if not ids:
        return []
    tenant_ids = set(Membership.objects.filter(pk__in=ids).values_list("tenant_id", flat=True))
    if lock:
        list(Tenant.objects.select_for_update().filter(pk__in=tenant_ids).values_list("pk", flat=True))
    rows = list(Membership.objects.filter(tenant_id__in=tenant_ids).values_list("pk", "tenant_id", "role"))
    after = [(pk, *changed.get(pk, (tenant_id, role))) for pk, tenant_id, role in rows if pk not in removed]
    names = dict(Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", "name"))
    problems = []
    for tenant_id in sorted(tenant_ids):
        before_roles = [role for _, t, role in rows if t == tenant_id]
        after_roles = [role for _, t, role in after if t == tenant_id]
        name = names.get(tenant_id, tenant_id)
        if Membership.OWNER in before_roles and Membership.OWNER not in after_roles:
            problems.append(f"{name} would have no account owner left: make another member the owner first.")
        elif set(before_roles) & set(Membership.MANAGING_ROLES) and not set(after_roles) & set(
            Membership.MANAGING_ROLES
        ):
            problems.append(
                f"{name} would have no one left to manage it (an account owner or manager): "
                "give another member that role first."
            )
    return problems


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

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "tenant"), name="membership_user_tenant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} ({self.get_role_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            problems = self.change_problems(lock=True)
            if problems:
                raise ValidationError(problems)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with transaction.atomic():
            problems = orphan_problems(removed={self.pk}) if self.pk else []
            if problems:
                raise ValidationError(problems)
            return super().delete(*args, **kwargs)

    # Every way a membership leaves its tenant or loses its role goes through save(),
    # delete() or the queryset's delete(): a tenant keeps its last owner and its last
    # manager whoever asks (the admin, an inline, a bulk action, the connections file).
    # Deleting the tenant or the user itself cascades past these, on purpose.
    def change_problems(self, lock: bool = False) -> list[str]:
        if self.pk is None:
            return []
        return orphan_problems(changed={self.pk: (self.tenant_id, self.role)}, lock=lock)

    def clean(self) -> None:
        problems = self.change_problems()
        if problems:
            raise ValidationError({"role": problems})


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

    def located_drop_folders(self) -> dict[int, Path | drop_folders.DropFolderError]:
        """Every file-drop connection's folder (of all tenants, enabled or not) checked
        against its own rules, or the rule it breaks; overlap is not judged yet. One query.
        """
        rows = VendorConnection.objects.filter(vendor__in=vendors_supplying(STREAM_FILE_DROP)).values_list(
            "pk", "tenant__slug", "name", "history_values"
        )
        root = drop_folders.drop_root()
        result: dict[int, Path | drop_folders.DropFolderError] = {}
        for pk, slug, name, values in rows:
            try:
                result[pk] = drop_folders.locate(slug, name, (values or {}).get("drop_folder", ""), root)
            except drop_folders.DropFolderError as exc:
                result[pk] = exc
        return result

    def drop_folders(self) -> dict[int, Path | drop_folders.DropFolderError]:
        """The checked folder of every file-drop connection, or the rule it breaks: what a
        scan or an FTP login goes by.

        A folder that breaks its own rules is never used, so it does not count against the
        others; folders that overlap are all refused, whichever was saved first.
        """
        result = self.located_drop_folders()
        located = {pk: path for pk, path in result.items() if isinstance(path, Path)}
        for pk in drop_folders.overlapping(located):
            result[pk] = drop_folders.DropFolderError(
                drop_folders.OVERLAP.format(folder=drop_folders.relative(located[pk]))
            )
        return result


def normalise_login(login: str) -> str:
    # Logins are compared case-insensitively, so "Bolt.tcn" cannot stand beside "bolt.tcn".
    return login.strip().casefold()


class VendorConnection(models.Model):
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="connections")
    # The vendor registry (integrations.vendors) is the list of valid keys, checked here and
    # by clean(); the column holds no choices or constraint, so adding a vendor needs no
    # migration. The admin shows a select built from the registry.
    vendor = models.CharField(max_length=16, validators=[validate_key])
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
    # Where the first history run starts: this many days before it (blank: the site's
    # COLLECT_INITIAL_HISTORY_HOURS, a day by default). Read once, when the backfill begins
    # (collectors.streams.intervals); a later change fetches nothing more (`collect --start`
    # backfills an older window by hand).
    backfill_days = models.PositiveIntegerField(
        "history start (days back)",
        null=True,
        blank=True,
        validators=[validators.backfill_days],
        help_text="How many days of history a new connection collects, oldest first "
        f"(1 to {validators.MAX_BACKFILL_DAYS}; blank: the site default, one day). "
        "Read when its first history run starts.",
    )
    max_request_days = models.PositiveIntegerField(
        "longest history request (days)",
        null=True,
        blank=True,
        validators=[validators.request_days],
        help_text="Leave blank for the vendor's limit. "
        "A backfill asks for at most this many days per request.",
    )
    # The FTP login of a file-drop connection, normalised: its own `ftp_username` or the
    # default `tenant-slug.connection-name`. Kept in a column of its own so that the
    # database, not a check that two saves could pass at once, keeps logins unique.
    ftp_login = models.CharField(
        "FTP login (normalised)", max_length=130, null=True, blank=True, unique=True, editable=False
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
            models.CheckConstraint(
                condition=Q(backfill_days__isnull=True)
                | Q(backfill_days__gte=validators.MIN_BACKFILL_DAYS)
                & Q(backfill_days__lte=validators.MAX_BACKFILL_DAYS),
                name="connection_backfill_days_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"<VendorConnection {self.pk}: {self.key} ({self.vendor})>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.has_drop:
            self.ftp_login = normalise_login(self.effective_ftp_login())
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "ftp_login"}
        else:
            self.ftp_login = None
        super().save(*args, **kwargs)

    @property
    def key(self) -> str:
        return f"{self.tenant.slug}/{self.name}"

    @property
    def vendor_class(self) -> type[Vendor]:
        return get_vendor(self.vendor)

    def get_vendor_display(self) -> str:
        """The vendor's label (what Django generates for a field with choices)."""
        return self.vendor_class.label if is_known(self.vendor) else self.vendor

    # --- file drop: folder and FTP login -------------------------------------------------
    @property
    def has_drop(self) -> bool:
        return is_known(self.vendor) and STREAM_FILE_DROP in self.vendor_class.streams

    @property
    def explicit_drop_folder(self) -> str:
        """A path an account manager set; blank for the derived DROP_ROOT/<tenant>/<name>/."""
        return (self.history_values or {}).get("drop_folder", "")

    def drop_folder_label(self) -> str:
        """The folder as shown to people: relative to DROP_ROOT, never the server's path."""
        explicit = self.explicit_drop_folder
        if not explicit:
            return f"DROP_ROOT/{drop_folders.derived(self.tenant.slug, self.name)}/"
        try:
            path = drop_folders.locate(self.tenant.slug, self.name, explicit)
        except drop_folders.DropFolderError:
            return "a path set by an account manager that breaks the drop folder rules (scans refuse it)"
        return f"{drop_folders.relative(path)} (set by an account manager)"

    def drop_folder(self) -> Path:
        """The checked drop folder, on the filesystem as it is now (DropFolderError if not)."""
        found = VendorConnection.objects.drop_folders().get(self.pk)
        if found is None:
            raise drop_folders.DropFolderError(f"{self.key} has no drop folder")
        if isinstance(found, drop_folders.DropFolderError):
            raise found
        return found

    def effective_ftp_login(self) -> str:
        return (self.history_values or {}).get("ftp_username") or f"{self.tenant.slug}.{self.name}"

    def apply_vendor_defaults(self) -> None:
        """Fill interval, zone and base URL from the vendor's declaration where unset."""
        vendor = self.vendor_class
        if not self.interval_seconds:
            self.interval_seconds = vendor.default_interval_seconds
        if not self.time_zone:
            self.time_zone = vendor.default_time_zone
        if not self.realtime_base_url and vendor.default_base_url:
            self.realtime_base_url = vendor.default_base_url

    # --- history ---------------------------------------------------------------------------
    def request_days(self) -> int:
        """The longest window one history request may span: the connection's own limit, else
        the vendor's declared one."""
        return self.max_request_days or self.vendor_class.max_request_days

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
            history=Section(self.history_base_url or self.realtime_base_url, self._history_values()),
            time_zone=self.time_zone or vendor.default_time_zone,
            interval_seconds=self.interval_seconds or vendor.default_interval_seconds,
            options={**vendor.default_options, **(self.options or {})},
            state_map=dict(self.state_map or {}),
        )

    def _history_values(self) -> dict[str, str]:
        values = self.values_of(HISTORY)
        if self.has_drop and not values.get("drop_folder"):
            # The adapter reports on the folder by this value; the derived one has none stored.
            values["drop_folder"] = drop_folders.derived(self.tenant.slug, self.name)
        return values

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
        if not is_known(self.vendor):
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
        if self.has_drop:
            self._check_drop_folder(errors)
            self._check_ftp_login(errors)
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

    def _tenant_slug(self) -> str | None:
        try:
            return self.tenant.slug
        except Tenant.DoesNotExist:  # the form reports the missing tenant
            return None

    def _check_drop_folder(self, errors: dict[str, str]) -> None:
        """The folder this save gives the connection must be its own (see drop_folders).

        Checked when it changes (a new connection, a new name, a new explicit path), so a
        folder set before these rules does not block unrelated edits: the scan refuses it.
        """
        slug = self._tenant_slug()
        if slug is None or not self.name:
            return
        explicit = self.explicit_drop_folder
        # The error goes where the folder came from: the path typed, or the name it derives from.
        where = "history_drop_folder" if explicit else "name"
        if self.pk is not None:
            old = (
                type(self)
                .objects.filter(pk=self.pk)
                .values_list("tenant__slug", "name", "history_values")
                .first()
            )
            if old is not None and (old[0], old[1], (old[2] or {}).get("drop_folder", "")) == (
                slug,
                self.name,
                explicit,
            ):
                return
        root = drop_folders.drop_root()
        try:
            path = drop_folders.locate(slug, self.name, explicit, root)
        except drop_folders.DropFolderError as exc:
            errors.setdefault(where, str(exc))
            return
        if self.tenant_id and transaction.get_connection().in_atomic_block:
            # Folders that pass `locate` lie inside their own tenant's folder, so only saves
            # in the same tenant can collide: holding its row until the save commits (the
            # admin and the connections file validate and save in one transaction) means two
            # cannot both pass. The scan-time check stands behind it either way.
            list(Tenant.objects.select_for_update().filter(pk=self.tenant_id).values_list("pk", flat=True))
        # Every other folder that could be used, also those that overlap each other already.
        others = {
            pk: found
            for pk, found in type(self).objects.located_drop_folders().items()
            if pk != self.pk and isinstance(found, Path)
        }
        if None in drop_folders.overlapping({**others, None: path}):
            errors.setdefault(where, drop_folders.OVERLAP.format(folder=drop_folders.relative(path, root)))

    def _check_ftp_login(self, errors: dict[str, str]) -> None:
        if self._tenant_slug() is None or not self.name:
            return
        login = normalise_login(self.effective_ftp_login())
        taken = type(self).objects.filter(ftp_login=login).exclude(pk=self.pk).exists()
        if taken:
            # Said without naming the other connection: it may be another tenant's.
            errors.setdefault(
                "history_ftp_username",
                f"The FTP login {self.effective_ftp_login()!r} is already another connection's; "
                "choose another.",
            )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url or "")
    try:
        port = parts.port
    except ValueError:  # a malformed port: the URL validator reports it
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port

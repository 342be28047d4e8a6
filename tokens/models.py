"""Expiring credentials and their reminder stages.

An `AccessToken` tracks a credential whose value stays in the connection's encrypted
secrets. A `TokenAlert` row, unique per (token, expiry, stage), is both the history of one
reminder and its row in the notification app's one outbox (`notifications.MailRow`); a
`TokenDigest`, unique per (tenant, local day), is the outbox row of the account owners'
daily list. Who may be told (verified addresses, list members) is the notification app's.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import Tenant, VendorConnection
from integrations.vendors.base import SECTIONS
from notifications.models import MailRow
from tokens import stages
from tokens.conf import app_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SECTION_CHOICES = tuple((s, s) for s in SECTIONS)
# The section whose token a connection of a tracked vendor must have on record.
TRACKED_SECTION = "realtime"

# The seed's naming convention for partner logins: 3rd_PartnerName_OrgName_UserName.
LOGIN_CONVENTION = re.compile(r"^3rd_[A-Za-z0-9.-]+_[A-Za-z0-9.-]+_[A-Za-z0-9.-]+$")
LOGIN_CONVENTION_HELP = (
    "TCN's convention for partner logins is 3rd_PartnerName_OrgName_UserName: '3rd' marks a third "
    "party, then the partner's name, the organization's name in Operator and the individual user, "
    "separated by underscores (e.g. 3rd_CommunityWFM_AcmeSupport_jdoe)."
)


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def local_now(tenant: Tenant, now: datetime | None = None) -> datetime:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(tenant.time_zone or "UTC"))


class TenantReminderSettings(models.Model):
    """A tenant's own reminder policy; absent or blank fields fall back to the settings."""

    tenant = models.OneToOneField(Tenant, models.CASCADE, related_name="reminder_settings")
    thresholds = models.JSONField(
        null=True,
        blank=True,
        help_text="Days left on which a reminder goes out, e.g. [90, 60, 30, 21, 14, 7, 3, 1, 0]. "
        "Blank: the default policy (90, 60, 30, 21, then daily from 14 to 0).",
    )
    send_hour = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Local hour (0-23) from which reminders go out. Blank: the default."
    )
    role_addresses_allowed = models.TextField(
        blank=True,
        help_text="Group or role addresses this tenant accepts for token owners and account owners, "
        "one per line: a whole address (cc-ops@acme.example) or a local part (cc-ops) for any domain. "
        "Blank: none; such addresses are refused, so a person is accountable.",
    )

    class Meta:
        verbose_name = "reminder settings"
        verbose_name_plural = "reminder settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(send_hour__isnull=True) | Q(send_hour__lte=23), name="reminder_send_hour_0_23"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder settings of {self.tenant}"

    def clean(self) -> None:
        if self.thresholds not in (None, "", []):
            try:
                self.thresholds = stages.validate_thresholds(self.thresholds)
            except ValueError as exc:
                raise ValidationError({"thresholds": str(exc)}) from None
        else:
            self.thresholds = None

    @staticmethod
    def policy_of(tenant: Tenant) -> stages.Policy:
        own = getattr(tenant, "reminder_settings", None)
        return stages.policy_for(own.thresholds if own else None)

    @staticmethod
    def send_hour_of(tenant: Tenant) -> int:
        own = getattr(tenant, "reminder_settings", None)
        return own.send_hour if own and own.send_hour is not None else app_settings.SEND_HOUR


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    def managed_by(self, user: Any) -> AccessTokenQuerySet:
        """Tokens of tenants the user owns or manages; never any for partners."""
        return self.filter(connection__tenant__in=Tenant.objects.managed_by(user))


class AccessToken(models.Model):
    """A credential of a connection that expires (TCN access tokens live one year).

    The value itself stays in the connection's encrypted secrets (`section`); this row
    tracks who it belongs to and when it lapses.
    """

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="access_tokens")
    section = models.CharField(max_length=16, choices=SECTION_CHOICES, default="realtime")
    service_login = models.CharField(
        max_length=200,
        blank=True,
        help_text="The TCN login the token was created on. " + LOGIN_CONVENTION_HELP,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_tokens",
        help_text="The user the token was created for; gets every reminder stage.",
    )
    issued = models.DateField()
    expires = models.DateField(blank=True, help_text="Blank: one year after the issue date.")
    created = models.DateTimeField(auto_now_add=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ("expires",)
        constraints = [
            models.UniqueConstraint(fields=("connection", "section"), name="token_per_connection_section"),
            models.CheckConstraint(condition=Q(expires__gt=F("issued")), name="token_expires_after_issued"),
        ]
        indexes = [models.Index(fields=("expires",), name="token_expires_idx")]

    def __str__(self) -> str:
        return f"{self.connection} · {self.service_login or self.section}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.issued and not self.expires:
            self.expires = one_year_after(self.issued)
        super().save(*args, **kwargs)

    # --- facts ---------------------------------------------------------------------------
    @property
    def tenant(self) -> Tenant:
        return self.connection.tenant

    def today(self, now: datetime | None = None) -> date:
        """Today's date in the tenant's zone: reminder days are counted there."""
        return local_now(self.tenant, now).date()

    def days_left(self, today: date | None = None) -> int:
        return (self.expires - (today or self.today())).days

    @property
    def login_follows_convention(self) -> bool:
        return bool(LOGIN_CONVENTION.match(self.service_login or ""))

    def urgency(self, today: date | None = None) -> str:
        """CSS-friendly urgency band: ok (over 30 days), soon (30-15), urgent (14-0), expired."""
        left = self.days_left(today)
        if left < 0:
            return "expired"
        if left <= 14:
            return "urgent"
        if left <= 30:
            return "soon"
        return "ok"

    def plan(self, today: date | None = None) -> list[stages.PlannedStage]:
        today = today or self.today()
        sent = self.sent_stages()
        return stages.plan(self.expires, today, TenantReminderSettings.policy_of(self.tenant), sent)

    def sent_stages(self) -> set[str]:
        """Stages already written for this cycle: alerts of this expiry or a later one.

        Counting later expiries means an expiry moved earlier (a correction) does not
        repeat what was already said; a renewal (a later expiry) starts afresh.
        """
        if "alerts" in getattr(self, "_prefetched_objects_cache", {}):  # a changelist page prefetched them
            return {a.stage for a in self.alerts.all() if a.expires >= self.expires}
        return set(self.alerts.filter(expires__gte=self.expires).values_list("stage", flat=True))

    # --- changes -------------------------------------------------------------------------
    def clean(self) -> None:
        if self.issued and not self.expires:
            self.expires = one_year_after(self.issued)
        if self.issued and self.expires and self.expires <= self.issued:
            raise ValidationError(
                {"expires": f"The expiry date {self.expires} must be after the issue date {self.issued}."}
            )
        if self.owner_id and self.connection_id:
            from tokens.addresses import token_owner_problems  # it imports integrations and notifications

            if problems := token_owner_problems(self.owner, self.connection.tenant):
                raise ValidationError({"owner": problems})

    def record_renewal(self, new_expires: date, by: User | None, note: str = "") -> TokenRenewal:
        """The account owner renewed the same credential in the vendor's console.

        The token value never changes here (the seed: never change the token, renew it).
        """
        with transaction.atomic():
            token = type(self).objects.select_for_update().get(pk=self.pk)
            if new_expires <= token.expires:
                raise ValidationError(
                    f"The new expiry {new_expires} must be later than the current expiry {token.expires}."
                )
            renewal = TokenRenewal.objects.create(
                token=token, old_expires=token.expires, new_expires=new_expires, recorded_by=by, note=note
            )
            type(self).objects.filter(pk=self.pk).update(expires=new_expires)
        self.expires = new_expires
        return renewal

    def secret_name(self) -> str:
        names = sorted(self.connection.vendor_class.secret_names(self.section))
        if not names:
            raise ValidationError(
                f"{self.connection.vendor_class.label} has no secret in the {self.section} section."
            )
        return "access_token" if "access_token" in names else names[0]

    def replace_value(self, value: str, by: User | None, reason: str) -> TokenValueChange:
        """Store a different credential value: an audited exception, not a renewal."""
        value = (value or "").strip()
        if len(value) < 8:
            raise ValidationError("The new token value is empty or too short (at least 8 characters).")
        if not reason.strip():
            raise ValidationError("Say why the token value is replaced (it is recorded in the audit log).")
        name = self.secret_name()
        with transaction.atomic():
            conn = VendorConnection.objects.select_for_update().get(pk=self.connection_id)
            conn.set_values(self.section, {**conn.values_of(self.section), name: value})
            conn.save()
            change = TokenValueChange.objects.create(
                token=self, changed_by=by, reason=reason.strip(), field=name
            )
        self.connection = conn
        return change


class TokenRenewal(models.Model):
    """History: who recorded which new expiry, when (renewals and corrections)."""

    token = models.ForeignKey(AccessToken, models.CASCADE, related_name="renewals")
    old_expires = models.DateField()
    new_expires = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-recorded_at",)

    def __str__(self) -> str:
        return f"{self.old_expires} → {self.new_expires}"


class TokenValueChange(models.Model):
    """Audit: a token's value was replaced (never shows the value)."""

    token = models.ForeignKey(AccessToken, models.CASCADE, related_name="value_changes")
    field = models.CharField(max_length=64)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ("-changed_at",)

    def __str__(self) -> str:
        return f"value replaced {self.changed_at:%Y-%m-%d}"


class TokenDigest(MailRow):
    """The account owners' one email per tenant per local day."""

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="token_digests")
    day = models.DateField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-day",)
        constraints = [models.UniqueConstraint(fields=("tenant", "day"), name="token_digest_per_tenant_day")]
        indexes = [models.Index(fields=("sent_at", "claimed"), name="token_digest_pending_idx")]

    def __str__(self) -> str:
        return f"Digest {self.tenant} {self.day}"


class TokenAlert(MailRow):
    """One reminder stage of one expiry of one token: history and outbox."""

    token = models.ForeignKey(AccessToken, models.CASCADE, related_name="alerts")
    expires = models.DateField(help_text="The expiry this stage was about.")
    stage = models.CharField(max_length=16)
    day = models.DateField(help_text="Local date (tenant's zone) the stage was due.")
    days_left = models.IntegerField()
    created = models.DateTimeField(default=timezone.now)
    unattended = models.BooleanField(
        default=False, help_text="Nobody verified would have been told: managers get it in their digest."
    )
    digest = models.ForeignKey(TokenDigest, models.SET_NULL, null=True, blank=True, related_name="alerts")

    class Meta:
        ordering = ("-created",)
        constraints = [
            models.UniqueConstraint(fields=("token", "expires", "stage"), name="token_alert_once_per_stage")
        ]
        indexes = [models.Index(fields=("sent_at", "claimed"), name="token_alert_pending_idx")]

    def __str__(self) -> str:
        return f"{self.stage} for {self.token} (expires {self.expires})"


class UnknownExpiryNotice(MailRow):
    """The one mail asking a connection's account owners to record its token's expiry.

    Unique per connection: two passes at once write it once, and it is never repeated
    (recording the token is what the mail asks for, and ends the "unknown" state).
    """

    connection = models.OneToOneField(VendorConnection, models.CASCADE, related_name="unknown_expiry_notice")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created",)
        indexes = [models.Index(fields=("sent_at", "claimed"), name="token_unknown_pending_idx")]

    def __str__(self) -> str:
        return f"Token expiry unknown: {self.connection}"


def connections_without_token() -> models.QuerySet[VendorConnection]:
    """Connections of a vendor whose tokens expire that have no token record: expiry unknown."""
    return VendorConnection.objects.filter(vendor__in=app_settings.TRACKED_VENDORS).exclude(
        access_tokens__section=TRACKED_SECTION
    )


def record_token(
    connection: VendorConnection,
    *,
    issued: date,
    expires: date | None = None,
    service_login: str | None = None,
    owner: Any = None,
    section: str | None = None,
) -> AccessToken:
    """Create or update the connection's one current token record (unique per section)."""
    section = section or TRACKED_SECTION
    wanted: dict[str, Any] = {"issued": issued, "expires": expires or one_year_after(issued)}
    if service_login is not None:
        wanted["service_login"] = service_login
    if owner is not None:
        wanted["owner"] = owner
    with transaction.atomic():
        token, created = AccessToken.objects.select_for_update().get_or_create(
            connection=connection, section=section, defaults=wanted
        )
        if not created and any(getattr(token, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(token, k, v)
            token.full_clean(exclude={"connection", "owner"})
            token.save()
    return token


class BannerShown(models.Model):
    """The login banner about expiring tokens is shown once per user per day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=("user", "day"), name="banner_once_per_user_day")]

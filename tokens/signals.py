"""Login banner (once per user per local day), address rows for new users, and the email
to a tenant's owners and managers when one of its notification endpoints is disabled."""

from __future__ import annotations

from datetime import timedelta as td
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from integrations.models import Membership
from notifications.signals import endpoint_disabled
from tokens import mailer, recipients
from tokens.conf import app_settings
from tokens.models import AccessToken, BannerShown, EmailAddress


def banner_tokens(user: Any) -> list[AccessToken]:
    """Tokens of the user's managed tenants in their last days (or lapsed)."""
    out = []
    tokens = AccessToken.objects.managed_by(user).select_related("connection__tenant")
    for token in tokens.filter(expires__lte=timezone.now().date() + td(days=app_settings.BANNER_DAYS + 1)):
        if token.days_left() <= app_settings.BANNER_DAYS:
            out.append(token)
    return sorted(out, key=lambda t: t.expires)


@receiver(user_logged_in)
def show_token_banner(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "_messages"):
        return  # a programmatic login (tests, scripts) has no page to show a banner on
    tokens = banner_tokens(user)
    if not tokens:
        return
    try:
        with transaction.atomic():
            BannerShown.objects.create(user=user, day=timezone.now().date())
    except IntegrityError:
        return  # already shown today
    parts = []
    for t in tokens[:5]:
        left = t.days_left()
        when = (
            f"expired {-left} day(s) ago"
            if left < 0
            else ("expires today" if left == 0 else f"expires in {left} day(s)")
        )
        parts.append(f"{t.connection.key} ({t.service_login or t.section}) {when}")
    more = f" and {len(tokens) - 5} more" if len(tokens) > 5 else ""
    messages.warning(
        request,
        "Access tokens need renewing: " + "; ".join(parts) + more + ". Renew in the vendor's console "
        "(TCN: Organization > Users > User Manager), then record the renewal here.",
    )


@receiver(post_save, sender=get_user_model())
def track_address(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.email:
        EmailAddress.objects.get_or_create(user=instance, email=instance.email.strip().lower())


@receiver(endpoint_disabled)
def mail_endpoint_disabled(sender: Any, endpoint: Any, reason: str, **kwargs: Any) -> None:
    """The notifications app disabled an endpoint that kept failing: tell who can fix it.

    The mailer lives here until it moves to the notifications app; connecting to its
    signal keeps notifications from importing tokens.
    """
    tenant = endpoint.tenant
    addresses = recipients.members_by_tenant([tenant.pk], roles=Membership.MANAGING_ROLES).get(tenant.pk, [])
    if not addresses:
        return
    page = settings.SITE_URL + reverse("admin:notifications_endpoint_change", args=[endpoint.pk])
    context = {"endpoint": endpoint, "tenant": tenant, "reason": reason, "endpoint_url": page}
    mailer.send_to("webhook-disabled", context, addresses, attempts=3)

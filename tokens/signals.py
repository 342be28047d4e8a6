"""Login banner about expiring tokens, once per user per local day."""

from __future__ import annotations

from datetime import timedelta as td
from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from tokens.conf import app_settings
from tokens.models import AccessToken, BannerShown


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

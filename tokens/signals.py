"""Login banner about expiring tokens, once per user per local day."""

from __future__ import annotations

from datetime import timedelta as td
from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

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
    shown = tokens[:5]
    parts = format_html_join(
        "; ",
        '<a href="{}">{}</a> ({}) {}',
        (
            (renewal_url(t), t.connection.key, t.service_login or t.section, _when(t.days_left()))
            for t in shown
        ),
    )
    more = f" and {len(tokens) - 5} more" if len(tokens) > 5 else ""
    # One token: "here" is its renewal form; several: the token list, where each row leads to its own.
    here = renewal_url(tokens[0]) if len(tokens) == 1 else reverse("admin:tokens_accesstoken_changelist")
    messages.warning(
        request,
        format_html(
            "Access tokens need renewing: {}{}. Renew in the vendor's console "
            '(TCN: Organization > Users > User Manager), then <a href="{}">record the renewal here</a>.',
            parts,
            more,
            here,
        ),
    )


def renewal_url(token: AccessToken) -> str:
    """The admin page where a renewal of this token is recorded."""
    return reverse("admin:tokens_accesstoken_renew", args=[token.pk])


def _when(left: int) -> str:
    if left < 0:
        return f"expired {-left} day(s) ago"
    return "expires today" if left == 0 else f"expires in {left} day(s)"

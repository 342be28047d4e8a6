"""The admin dashboard widget: the user's tenants' tokens expiring within 90 days."""

from __future__ import annotations

from datetime import timedelta as td
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from integrations.admin_scope import can_manage
from integrations.models import Tenant
from tokens.conf import app_settings
from tokens.models import TRACKED_SECTION, AccessToken, TokenAlert, connections_without_token

register = template.Library()


@register.inclusion_tag("tokens/widget.html", takes_context=True)
def expiring_tokens(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated or not can_manage(request):
        return {"show": False}
    horizon = timezone.now().date() + td(days=app_settings.WIDGET_DAYS + 1)
    tokens = (
        AccessToken.objects.managed_by(request.user)
        .filter(expires__lte=horizon)
        .select_related("connection__tenant", "owner")
        .order_by("expires", "pk")
    )
    unattended = set(
        TokenAlert.objects.filter(
            token__in=tokens, unattended=True, expires__gte=timezone.now().date()
        ).values_list("token_id", flat=True)
    )
    rows = []
    for token in tokens:
        left = token.days_left()
        if left > app_settings.WIDGET_DAYS:
            continue
        rows.append(
            {
                "token": token,
                "days_left": left,
                "days_ago": -left,
                "urgency": token.urgency(),
                "url": reverse("admin:tokens_accesstoken_change", args=[token.pk]),
                "unattended": token.pk in unattended,
            }
        )
    add = reverse("admin:tokens_accesstoken_add")
    unknown = [
        {"connection": conn, "url": f"{add}?connection={conn.pk}&section={TRACKED_SECTION}"}
        for conn in connections_without_token()
        .filter(tenant__in=Tenant.objects.managed_by(request.user))
        .select_related("tenant")
        .order_by("tenant__name", "name")
    ]
    return {"show": True, "rows": rows, "unknown": unknown, "days": app_settings.WIDGET_DAYS}

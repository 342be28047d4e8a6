"""`{% health_link %}`: the admin index's link to the health page, with how many streams are down."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count

from collectors.health import DOWN
from collectors.models import CollectionSchedule
from integrations.models import VendorConnection

register = template.Library()


@register.inclusion_tag("collectors/health_link.html", takes_context=True)
def health_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    counts = dict(
        CollectionSchedule.objects.filter(connection__in=VendorConnection.objects.visible_to(request.user))
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {"down": sum(counts.get(s, 0) for s in DOWN), "total": sum(counts.values())}

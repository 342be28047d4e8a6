"""`{% backfill_progress connection %}`: a connection's backfill progress, on its admin page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from collectors.board import progress_by_connection
from integrations.models import VendorConnection

register = template.Library()


@register.inclusion_tag("collectors/_backfill.html")
def backfill_progress(connection: VendorConnection | None) -> dict[str, Any]:
    if connection is None or connection.pk is None:
        return {"progress": None}
    return {"progress": progress_by_connection({connection.pk}, timezone.now()).get(connection.pk)}

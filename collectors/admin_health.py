"""Admin of the health flips: the history of every status change and what was mailed.

Registered from `collectors/admin.py` (one import line at its end).
"""

from __future__ import annotations

from django.contrib import admin

from collectors.admin import CONNECTION_FILTERS, ReadOnlyAdmin
from collectors.models import HealthFlip


@admin.register(HealthFlip)
class HealthFlipAdmin(ReadOnlyAdmin):
    tenant_path = "connection__tenant"
    list_display = (
        "created",
        "connection",
        "stream",
        "old_status",
        "new_status",
        "reason",
        "delivery",
        "processed",
    )
    list_filter = ("new_status", "stream", "delivery", *CONNECTION_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name", "reason")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "created"

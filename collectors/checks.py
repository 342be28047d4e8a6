"""A system check tying the vendor registry to the stream registry: every kind of data a vendor
supplies is a registered stream (the vendor package cannot check it: integrations never
imports collectors)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error

from collectors.streams import registered
from integrations.vendors import get_vendor, registry


def check_supplied_streams(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    known = registered()
    errors: list[CheckMessage] = []
    for key in registry():
        try:
            vendor = get_vendor(key)
        except ImportError:
            continue  # reported by the vendor registry's own check
        errors.extend(
            Error(f"vendor {key!r} supplies {kind!r}, which no stream module declares", id="collectors.E010")
            for kind in vendor.supplies
            if kind not in known
        )
    return errors

"""The notification app's admin pages: endpoints and deliveries, addresses and lists."""

from __future__ import annotations

from notifications.admin import endpoints, people

__all__ = ["endpoints", "people"]

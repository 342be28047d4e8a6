"""Date formats of the admin (FORMAT_MODULE_PATH): times that name their zone ("T": with a
tenant's zone active, "CST (America/Chicago)"; see integrations.local_times)."""

from __future__ import annotations

from integrations.local_times import DATETIME_FORMAT

SHORT_DATETIME_FORMAT = DATETIME_FORMAT

__all__ = ["DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"]

"""Checked by tests/test_types.py, never run: interval records handed to the interval writer.

The twin of states_to_interval_writer.py with the right record type: mypy must pass it.
"""

from __future__ import annotations

from datetime import datetime

from collectors.writers import upsert_intervals
from integrations.models import VendorConnection
from integrations.vendors.records import IntervalRecord


def write(connection: VendorConnection, records: list[IntervalRecord], now: datetime) -> tuple[int, int]:
    return upsert_intervals(connection, records, now)

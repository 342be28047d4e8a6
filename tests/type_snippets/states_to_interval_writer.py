"""Checked by tests/test_types.py, never run: a poll's agent states handed to the interval writer.

mypy must refuse it (the writer takes interval records); the twin module,
intervals_to_interval_writer.py, differs only in the type and must pass.
"""

from __future__ import annotations

from datetime import datetime

from collectors.writers import upsert_intervals
from integrations.models import VendorConnection
from integrations.vendors.records import StateSnapshot


def write(connection: VendorConnection, records: StateSnapshot, now: datetime) -> tuple[int, int]:
    return upsert_intervals(connection, records, now)

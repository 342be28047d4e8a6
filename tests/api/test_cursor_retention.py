"""A change cursor older than what retention pruned is gone (410), not silently short."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from api.changes import oldest_valid_cursor
from collectors.models import AgentStateEvent, IntervalVolume, RetentionHorizon

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_without_pruning_the_cursor_age_setting_decides(settings):
    settings.API_CURSOR_MAX_AGE_DAYS = 60
    assert oldest_valid_cursor(IntervalVolume, NOW) == NOW - td(days=60)


def test_a_retention_horizon_newer_than_the_age_limit_decides(settings, tenant_a, tenant_b):
    settings.API_CURSOR_MAX_AGE_DAYS = 60
    RetentionHorizon.objects.create(
        table="collectors.intervalvolume", tenant=tenant_a, horizon=NOW - td(days=40)
    )
    RetentionHorizon.objects.create(
        table="collectors.intervalvolume", tenant=tenant_b, horizon=NOW - td(days=90)
    )
    assert oldest_valid_cursor(IntervalVolume, NOW) == NOW - td(days=40)
    assert oldest_valid_cursor(AgentStateEvent, NOW) == NOW - td(days=60)

"""A tenant's board reads its times in the tenant's zone and names it; the staff overview,
across tenants, stays in UTC and says so."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.test import Client

from collectors.models import CollectionSchedule
from tests.collectors.healthkit import T0, make_schedule, record

pytestmark = pytest.mark.django_db


def page_of(client: Client, user, path: str = "/health/") -> str:
    client.force_login(user)
    return client.get(path).content.decode()


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_a_managers_board_shows_its_times_in_the_tenants_zone_with_the_zone_named(client, manager_a, conn_a):
    schedule = make_schedule(conn_a, "agent_states")
    record(schedule, "ok", T0)  # 12:00 UTC is 06:00 in Chicago (CST, UTC-6) on 2 March
    CollectionSchedule.objects.filter(pk=schedule.pk).update(next_run_at=T0 + td(minutes=10))
    page = page_of(client, manager_a)
    assert "<span>2026-03-02</span> <span>06:00</span>" in page
    assert "<span>06:10:00</span>" in page
    assert "as of 2026-03-02 06:05 CST (America/Chicago); times in this zone" in page
    assert "<span>12:00</span>" not in page  # (the 24-hour strip's hours name UTC themselves)


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_the_same_moment_reads_in_london_time_on_the_other_tenants_board(client, manager_b, conn_b):
    schedule = make_schedule(conn_b, "agent_states")
    record(schedule, "ok", T0)  # London is on GMT in March before the 29th: 12:00
    page = page_of(client, manager_b)
    assert "<span>2026-03-02</span> <span>12:00</span>" in page
    assert "as of 2026-03-02 12:05 GMT (Europe/London)" in page


@time_machine.travel(T0 + td(days=30, minutes=5), tick=False)
def test_the_board_follows_daylight_saving_in_the_tenants_zone(client, manager_a, conn_a):
    schedule = make_schedule(conn_a, "agent_states")
    record(schedule, "ok", T0 + td(days=30))  # 1 April: Chicago is on CDT (UTC-5)
    page = page_of(client, manager_a)
    assert "<span>2026-04-01</span> <span>07:00</span>" in page
    assert "CDT (America/Chicago)" in page


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_the_staff_overview_across_tenants_says_its_times_are_utc(client, superuser, conn_a, conn_b):
    page = page_of(client, superuser)
    assert "as of 2026-03-02 12:05 UTC" in page
    assert "times in this zone" not in page

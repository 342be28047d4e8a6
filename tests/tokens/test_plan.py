"""The full plan of a token over its year, as the hourly pass really writes it."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime
from datetime import timedelta as td

import time_machine

from tokens import stages
from tokens.models import AccessToken, TokenAlert
from tokens.reminders import run_pass

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
EXPIRES = date(2027, 3, 20)  # US daylight saving starts 2027-03-14, inside the daily stretch
EXPECTED = [
    (date(2026, 12, 20), "d90"),
    (date(2027, 1, 19), "d60"),
    (date(2027, 2, 18), "d30"),
    (date(2027, 2, 27), "w3"),
    *((date(2027, 3, 20) - td(days=n), f"d{n}") for n in range(14, 0, -1)),
    (date(2027, 3, 20), "d0"),
    (date(2027, 3, 21), "expired"),
]


def test_the_plan_lists_every_stage_on_its_date():
    policy = stages.policy_for(None)
    got = [(p.day, p.stage) for p in stages.plan(EXPIRES, date(2026, 3, 20), policy)]
    assert got == EXPECTED


def test_hourly_passes_over_the_year_send_each_stage_once_at_eight_local_across_dst(conn_a):
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 3, 20), expires=EXPIRES)
    assert token.plan(date(2026, 3, 20)) == stages.plan(EXPIRES, date(2026, 3, 20), stages.policy_for(None))
    # Daily passes at 15:00 UTC (09:00 CST) until the daily stretch, then every hour across the DST change.
    moment = datetime(2026, 12, 1, 15, tzinfo=UTC)
    while moment < datetime(2027, 3, 1, tzinfo=UTC):
        with time_machine.travel(moment, tick=False):
            run_pass()
        moment += td(days=1)
    while moment < datetime(2027, 3, 23, tzinfo=UTC):
        with time_machine.travel(moment, tick=False):
            run_pass()
        moment += td(hours=1)

    alerts = list(TokenAlert.objects.filter(token=token).order_by("day"))
    assert [(a.day, a.stage) for a in alerts] == EXPECTED
    hourly = [a for a in alerts if a.day >= date(2027, 3, 1)]
    # Written at the first tick at/after 08:00 in Chicago: 14:00 UTC in CST, 13:00 UTC in CDT.
    assert {a.created.astimezone(CHICAGO).hour for a in hourly} == {8}
    assert next(a for a in alerts if a.stage == "d7").created.hour == 14  # 2027-03-13, CST
    assert next(a for a in alerts if a.stage == "d6").created.hour == 13  # 2027-03-14, CDT


def test_a_tenant_override_changes_the_thresholds(conn_a):
    from tokens.models import TenantReminderSettings

    TenantReminderSettings.objects.create(tenant=conn_a.tenant, thresholds=[45, 21, 7, 0])
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 3, 20), expires=EXPIRES)
    got = [(p.stage, p.day) for p in token.plan(date(2026, 3, 20))]
    assert got == [
        ("d45", date(2027, 2, 3)),
        ("w3", date(2027, 2, 27)),
        ("d7", date(2027, 3, 13)),
        ("d0", date(2027, 3, 20)),
        ("expired", date(2027, 3, 21)),
    ]


def test_nothing_is_written_before_the_tenants_morning(conn_a):
    AccessToken.objects.create(connection=conn_a, issued=date(2026, 3, 20), expires=EXPIRES)
    # 2027-03-15 07:59 in Chicago (CDT, UTC-5): the d5 stage is due today but not yet sent.
    with time_machine.travel(datetime(2027, 3, 15, 12, 59, tzinfo=UTC), tick=False):
        result = run_pass()
    assert result.written == 0 and "acme" in result.waiting_tenants
    with time_machine.travel(datetime(2027, 3, 15, 13, 0, tzinfo=UTC), tick=False):
        run_pass()
    assert list(TokenAlert.objects.values_list("stage", flat=True)) == ["d5"]

"""`manage.py token_alerts`: one pass, a dry run, the plan, and bad arguments."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from tokens.models import AccessToken, TokenAlert


def run(*args: str) -> str:
    out = StringIO()
    call_command("token_alerts", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def token(conn_a):
    return AccessToken.objects.create(
        connection=conn_a,
        service_login="3rd_WFM_Acme_jdoe",
        issued=date(2025, 6, 15),
        expires=date(2026, 6, 15),
    )


def test_dry_run_shows_what_would_be_written(token):
    out = json.loads(run("--today", "2026-06-01", "--dry-run", "--json"))
    assert [a["stage"] for a in out["alerts"]] == ["d14"] and out["dry_run"] is True
    assert not TokenAlert.objects.exists()


def test_a_pass_writes_and_reports(token):
    out = json.loads(run("--today", "2026-06-01", "--json"))
    assert out["written"] == 1 and out["alerts"][0]["unattended"] is True
    assert "wrote 0 reminder(s)" in run("--today", "2026-06-01")


def test_the_plan_lists_future_dates_and_stages(token):
    out = json.loads(run("--plan", "--today", "2026-05-20", "--json"))
    assert out[0]["plan"][:3] == [
        {"day": "2026-05-20", "stage": "d30", "days_left": 26},
        {"day": "2026-05-25", "stage": "w3", "days_left": 21},
        {"day": "2026-06-01", "stage": "d14", "days_left": 14},
    ]
    assert out[0]["plan"][-1] == {"day": "2026-06-16", "stage": "expired", "days_left": -1}
    text = run("--plan", "--today", "2026-05-20")
    assert "acme/tcn-main  3rd_WFM_Acme_jdoe  expires 2026-06-15" in text


def test_a_bad_date_is_one_clear_error_with_status_2(token):
    with pytest.raises(CommandError) as exc:
        call_command("token_alerts", "--today", "June 1st")
    assert exc.value.returncode == 2 and "--today 'June 1st' is not a date" in str(exc.value)


@time_machine.travel("2026-05-31 09:00:00Z", tick=False)
def test_a_future_date_is_refused_without_dry_run_and_nothing_is_written(token, mailoutbox):
    with pytest.raises(CommandError) as exc:
        call_command("token_alerts", "--today", "2026-06-01")
    assert exc.value.returncode == 2 and "--today 2026-06-01 is in the future" in str(exc.value)
    assert "--dry-run" in str(exc.value) and "--force" in str(exc.value)
    assert not TokenAlert.objects.exists() and mailoutbox == []


@time_machine.travel("2026-05-31 09:00:00Z", tick=False)
def test_a_future_date_may_be_looked_at_with_dry_run_or_sent_with_force(token):
    assert json.loads(run("--today", "2026-06-01", "--dry-run", "--json"))["alerts"][0]["stage"] == "d14"
    assert not TokenAlert.objects.exists()
    assert json.loads(run("--today", "2026-06-01", "--force", "--json"))["written"] == 1


@time_machine.travel("2026-05-31 12:00:00Z", tick=False)
def test_a_date_already_reached_somewhere_on_earth_needs_no_force(token):
    # At 12:00 UTC it is already the next day in UTC+14.
    assert json.loads(run("--today", "2026-06-01", "--json"))["written"] == 1

"""A late pass, or a token first seen mid-cycle, sends only the most urgent due stage."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tokens.models import AccessToken, TokenAlert
from tokens.reminders import run_pass


def stages_written(token):
    return list(
        TokenAlert.objects.filter(token=token).order_by("created", "pk").values_list("stage", flat=True)
    )


def test_a_token_first_seen_with_45_days_left_sends_only_d60(conn_a):
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 1, 1), expires=date(2026, 6, 15))
    run_pass(today=date(2026, 5, 1))  # 45 days left
    assert stages_written(token) == ["d60"]
    run_pass(today=date(2026, 5, 2))
    assert stages_written(token) == ["d60"]
    run_pass(today=date(2026, 5, 16))  # 30 days left
    assert stages_written(token) == ["d60", "d30"]


def test_missed_days_send_the_most_urgent_stage_never_a_burst(conn_a):
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 1, 1), expires=date(2026, 6, 15))
    run_pass(today=date(2026, 5, 25))  # w3 day (21 left)
    run_pass(today=date(2026, 6, 10))  # 5 days left: d14..d6 were missed
    assert stages_written(token) == ["w3", "d5"]
    run_pass(today=date(2026, 6, 20))  # lapsed five days ago: d4..d0 missed
    run_pass(today=date(2026, 6, 21))
    run_pass(today=date(2026, 7, 30))
    assert stages_written(token) == ["w3", "d5", "expired"]


def test_a_pass_repeated_the_same_day_writes_nothing_new(conn_a):
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 1, 1), expires=date(2026, 6, 15))
    first = run_pass(today=date(2026, 6, 5))
    second = run_pass(today=date(2026, 6, 5))
    assert first.written == 1 and second.written == 0 and not second.due
    assert stages_written(token) == ["d10"]


def test_dry_run_writes_nothing(conn_a):
    AccessToken.objects.create(connection=conn_a, issued=date(2026, 1, 1), expires=date(2026, 6, 15))
    result = run_pass(today=date(2026, 6, 5), dry_run=True)
    assert [a.stage for a in result.due] == ["d10"]
    assert not TokenAlert.objects.exists()


def test_expiry_defaults_to_one_year_after_issue(conn_a):
    token = AccessToken.objects.create(connection=conn_a, issued=date(2026, 2, 3))
    assert token.expires == date(2027, 2, 3)


def test_an_expiry_before_the_issue_date_is_refused_with_a_clear_message(conn_a):
    token = AccessToken(connection=conn_a, issued=date(2026, 2, 3), expires=date(2026, 1, 1))
    with pytest.raises(ValidationError) as exc:
        token.full_clean()
    assert "must be after the issue date 2026-02-03" in str(exc.value)
    assert not AccessToken.objects.exists()

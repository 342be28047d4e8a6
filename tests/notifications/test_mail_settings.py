"""The mail outbox's settings: NOTIFY_* names, with the TOKENS_* names they replace still read."""

from __future__ import annotations

from django.core.checks import run_checks

from notifications.conf import app_settings


def test_the_old_tokens_names_still_set_the_mail_rules(settings, monkeypatch):
    settings.TOKENS_MAIL_MAX_ATTEMPTS = 7
    monkeypatch.setenv("TOKENS_MAIL_RETRY_BASE", "30")
    settings.TOKENS_CLAIM_TIMEOUT = 120
    policy = app_settings.mail_policy()
    assert (policy.max_attempts, policy.base_seconds, policy.claim_timeout_seconds) == (7, 30, 120)


def test_the_notify_names_win_over_the_old_ones(settings, monkeypatch):
    settings.TOKENS_MAIL_MAX_ATTEMPTS = 7
    settings.NOTIFY_MAIL_MAX_ATTEMPTS = 2
    monkeypatch.setenv("TOKENS_MAIL_RETRY_BASE", "30")
    monkeypatch.setenv("NOTIFY_MAIL_RETRY_BASE", "10")
    assert (app_settings.MAIL_MAX_ATTEMPTS, app_settings.MAIL_RETRY_BASE_SECONDS) == (2, 10)


def test_the_defaults_are_five_tries_a_minute_apart_doubling(settings):
    policy = app_settings.mail_policy()
    assert (policy.max_attempts, [policy.delay(n) for n in (1, 2, 3)]) == (5, [60, 120, 240])
    assert policy.claim_timeout_seconds == 900


def test_a_bad_notify_value_stops_the_start_by_name(monkeypatch):
    monkeypatch.setenv("NOTIFY_MAIL_MAX_ATTEMPTS", "0")
    found = [m.msg for m in run_checks(tags=["switchboard"]) if m.is_serious()]
    assert [m for m in found if m.startswith("NOTIFY_MAIL_MAX_ATTEMPTS = '0' is below 1")] == found != []

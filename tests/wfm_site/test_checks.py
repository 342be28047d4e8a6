"""The system checks of Switchboard's settings: wrong values are refused by name at every start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from wfm_site.checks import refuse_to_start_on_errors

ROOT = Path(__file__).resolve().parents[2]


def switchboard_errors(deploy: bool = False) -> list[str]:
    found = run_checks(tags=["switchboard"], include_deployment_checks=deploy)
    return [m.msg for m in found if m.is_serious()]


def test_the_defaults_pass():
    assert switchboard_errors() == []


def test_it_refuses_a_send_hour_of_25_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOKENS_SEND_HOUR", "25")
    assert switchboard_errors() == ["TOKENS_SEND_HOUR = '25' is above 23 (0 to 23 (local hour of the day))"]


def test_it_refuses_a_send_hour_of_25_from_settings(settings):
    settings.TOKENS_SEND_HOUR = 25
    [message] = switchboard_errors()
    assert message.startswith("TOKENS_SEND_HOUR = 25 is above 23")


def test_it_refuses_a_chunk_size_that_is_not_a_number(monkeypatch):
    monkeypatch.setenv("COLLECT_CHUNK_INTERVALS", "abc")
    [message] = switchboard_errors()
    assert message == "COLLECT_CHUNK_INTERVALS = 'abc' is not a whole number (1 to 2976 15-minute intervals)"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("COLLECT_CHUNK_INTERVALS", "0", "is below 1"),
        ("COLLECT_INITIAL_HISTORY_HOURS", "soon", "is not a number"),
        ("COLLECT_QUEUE_GRACE_SECONDS", "1.5", "is not a whole number"),
        ("COLLECT_CONFIG_DEACTIVATE_SHARE", "1.5", "is above 1"),
        ("COLLECT_AGENT_STATES_GRACE_SECONDS", "1", "is below 2"),
        ("HEALTH_FAILING_AFTER", "-1", "is below 1"),
        ("TOKENS_SEND_HOUR", "-1", "is below 0"),
        ("FTP_RECEIVER_PORT", "70000", "is above 65535"),
        ("SECURE_HSTS_SECONDS", "a year", "is not a whole number"),
        ("DEBUG", "maybe", "is not a boolean"),
        ("SECURE_HSTS_PRELOAD", "sure", "is not a boolean"),
        ("HEALTH_GRACE_SECONDS", "volume=soon", "gives volume 'soon', which is not a whole number"),
        ("HEALTH_GRACE_SECONDS", "voice=60", "names 'voice', not one of"),
        ("FTP_PASSIVE_PORTS", "60100-60000", "is not a port range"),
        ("SANDBOX_ZONE", "Mars/Olympus", "is not a known time zone"),
        ("FTP_TLS_CERTFILE", "/nonexistent/cert.pem", "is not a readable file"),
        ("FTP_MASQUERADE_ADDRESS", "ftp.example.com", "is not an IP address"),
        ("API_THROTTLE_RATE", "600 per minute", "is not a rate like 600/min"),
        ("API_PAGE_SIZE", "0", "is below 1"),
        ("WEBHOOKS_TIMEOUT", "ten", "is not a whole number"),
    ],
)
def test_each_wrong_value_is_named_with_what_it_must_be(monkeypatch, name, value, problem):
    monkeypatch.setenv(name, value)
    [message] = switchboard_errors()
    assert message.startswith(f"{name} = {value!r} {problem}")


def test_an_unknown_email_or_broker_scheme_is_refused_without_its_password(settings):
    settings.EMAIL_URL = "smtp+starttls://alerts:mail-pass-0123@mail.example.com:587"
    settings.CELERY_BROKER_URL = "redis:/cache.internal"
    messages = switchboard_errors()
    assert messages == [
        "EMAIL_URL = 'smtp+starttls://mail.example.com' has no known scheme "
        "(smtp, smtps, smtp+tls, smtp+ssl, consolemail, filemail, memorymail, dummymail)",
        "CELERY_BROKER_URL = 'redis:/cache.internal' has no known scheme "
        "(redis, rediss, filesystem, amqp, amqps, memory)",
    ]
    assert "mail-pass-0123" not in " ".join(messages)


def test_an_egress_allow_list_entry_that_is_no_network_is_refused(settings):
    settings.VENDOR_EGRESS_ALLOW = ["10.20.0.0/16", "vendor.internal"]
    [message] = switchboard_errors()
    assert message.startswith(
        "VENDOR_EGRESS_ALLOW = ['10.20.0.0/16', 'vendor.internal'] is not a list of networks in CIDR form: "
        "'vendor.internal' is not a network"
    )


def test_a_soft_time_limit_not_below_the_hard_one_is_refused(settings):
    settings.COLLECT_AGENT_STATES_SOFT_TIME_LIMIT = 90
    settings.COLLECT_AGENT_STATES_TIME_LIMIT = 90
    [message] = switchboard_errors()
    assert message.startswith("COLLECT_AGENT_STATES_SOFT_TIME_LIMIT = 90 is not below")


def test_a_hard_limit_past_the_visibility_timeout_is_refused(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.COLLECT_SOFT_TIME_LIMIT = 3500
    settings.COLLECT_TIME_LIMIT = 4000
    [message] = switchboard_errors()
    assert message.startswith("COLLECT_TIME_LIMIT = 4000 is not below the broker's visibility timeout")


def test_a_bad_log_level_or_format_is_refused(settings):
    settings.LOG_LEVEL = "LOUD"
    settings.LOG_FORMAT = "xml"
    assert sorted(switchboard_errors()) == [
        "LOG_FORMAT = 'xml' is not one of plain, json",
        "LOG_LEVEL = 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ]


def test_a_bad_encryption_key_is_named_but_never_shown(settings):
    settings.FIELD_ENCRYPTION_KEYS = [settings.FIELD_ENCRYPTION_KEYS[0], "not-a-key-but-secret-0123"]
    [message] = switchboard_errors()
    assert message.startswith("FIELD_ENCRYPTION_KEYS (value hidden) key 2 is not a Fernet key")
    assert "not-a-key-but-secret-0123" not in message


def test_a_guessable_metrics_token_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "letmein")
    [message] = switchboard_errors()
    assert message.startswith("METRICS_TOKEN (value hidden) is shorter than 16 characters")
    assert "letmein" not in message


def test_a_bad_sentry_dsn_is_refused_without_showing_it(settings):
    settings.SENTRY_DSN = "sentry-key-0123456789"
    [message] = switchboard_errors()
    assert message.startswith("SENTRY_DSN (value hidden) is not a Sentry DSN")
    assert "0123456789" not in message


def production(settings, **overrides) -> None:
    settings.DEBUG = False
    settings.CELERY_BROKER_URL = "redis://cache.internal:6379/0"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_URL = "smtp://mail.example.com:587"
    settings.SITE_URL = "https://switchboard.example.com"
    for name, value in overrides.items():
        setattr(settings, name, value)


def test_deploy_passes_a_production_configuration(settings):
    production(settings)
    assert switchboard_errors(deploy=True) == []


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        (
            {"CELERY_BROKER_URL": "filesystem://"},
            "CELERY_BROKER_URL = 'filesystem://' is the filesystem broker",
        ),
        (
            {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_URL": "filemail:///srv/mail",
            },
            "EMAIL_URL = 'filemail:///srv/mail' does not send email",
        ),
        ({"SITE_URL": "http://127.0.0.1:8000"}, "SITE_URL = 'http://127.0.0.1:8000' is a loopback address"),
        ({"SITE_URL": "http://localhost"}, "SITE_URL = 'http://localhost' is a loopback address"),
        ({"SITE_URL": "http://[::1]:8000"}, "SITE_URL = 'http://[::1]:8000' is a loopback address"),
    ],
)
def test_deploy_refuses_development_services_when_debug_is_off(settings, overrides, start):
    production(settings, **overrides)
    [message] = switchboard_errors(deploy=True)
    assert message.startswith(start)
    # Plain `check` (every process start) lets them be: `make run` uses all three.
    assert switchboard_errors() == []


def test_deploy_lets_development_services_be_while_debug_is_on(settings):
    production(settings, DEBUG=True, CELERY_BROKER_URL="filesystem://", SITE_URL="http://127.0.0.1:8000")
    assert switchboard_errors(deploy=True) == []


def test_a_process_refuses_to_start_naming_the_wrong_setting(monkeypatch, capsys):
    monkeypatch.setenv("TOKENS_SEND_HOUR", "25")
    with pytest.raises(SystemExit) as stopped:
        refuse_to_start_on_errors("the worker")
    assert stopped.value.code != 0
    err = capsys.readouterr().err
    assert "the worker refuses to start: 1 setting(s) wrong" in err
    assert "TOKENS_SEND_HOUR = '25' is above 23" in err


def test_a_process_starts_when_every_setting_is_right():
    refuse_to_start_on_errors("the worker")  # no SystemExit


def test_manage_py_check_fails_naming_each_wrong_setting_without_a_traceback():
    wrong = {
        "TOKENS_SEND_HOUR": "25",
        "COLLECT_CHUNK_INTERVALS": "abc",
        # Read while the settings load: a traceback there would hide the others.
        "SECURE_HSTS_SECONDS": "a year",
        "DB_CONN_MAX_AGE": "forever",
        "EMAIL_URL": "bogus://mail.example.com",
        "LOG_LEVEL": "LOUD",
    }
    env = {**os.environ, "DEBUG": "true", **wrong}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "TOKENS_SEND_HOUR = '25' is above 23" in done.stderr
    assert "COLLECT_CHUNK_INTERVALS = 'abc' is not a whole number" in done.stderr
    for name in wrong:
        assert f"{name} = " in done.stderr


@pytest.mark.parametrize(
    ("process", "command", "says"),
    [
        (
            "gunicorn",
            ["-m", "gunicorn", "wfm_site.wsgi", "--preload", "--bind", "127.0.0.1:0"],
            "the web process",
        ),
        ("worker", ["-m", "celery", "-A", "wfm_site", "worker", "--pool=solo", "-Q", "none"], "the worker"),
        ("beat", ["-m", "celery", "-A", "wfm_site", "beat"], "beat"),
    ],
)
def test_every_production_process_refuses_to_start_with_a_wrong_setting(tmp_path, process, command, says):
    env = {
        **os.environ,
        "DEBUG": "true",
        "TOKENS_SEND_HOUR": "25",
        "VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert f"{says} refuses to start: 1 setting(s) wrong" in done.stderr
    assert "TOKENS_SEND_HOUR = '25' is above 23" in done.stderr

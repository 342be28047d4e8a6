"""System checks of every Switchboard setting, run by `manage.py check` and at every process start.

A setting comes from Django settings when the project sets it, else from the environment
variable of the same name (the conf modules read them the same way), else its default. A
value that is set but wrong is an error naming the setting, the value and what it must be,
so `TOKENS_SEND_HOUR=25` stops the process at start instead of silently stopping every
reminder. Secrets are named, never shown.

`--deploy` adds what a production installation must not run with while DEBUG is off: the
filesystem broker, email written to files, links in emails pointing at a loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage, Error

from collectors.streams import STREAMS

if TYPE_CHECKING:
    from django.apps import AppConfig

log = logging.getLogger(__name__)

BOOLEANS = {"true", "false", "1", "0", "yes", "no", "on", "off", "y", "n", "t", "f", ""}
MISSING = object()


@dataclass(frozen=True)
class Number:
    """An integer or decimal setting with a range and a unit, as the error shows them."""

    name: str
    unit: str
    minimum: float | None = None
    maximum: float | None = None
    decimal: bool = False

    def validate(self, value: Any) -> str | None:
        kind = "a number" if self.decimal else "a whole number"
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if self.decimal else _whole(value)
        except (TypeError, ValueError):
            return f"is not {kind} ({self.bounds()})"
        if self.minimum is not None and number < self.minimum:
            return f"is below {_fmt(self.minimum)} ({self.bounds()})"
        if self.maximum is not None and number > self.maximum:
            return f"is above {_fmt(self.maximum)} ({self.bounds()})"
        return None

    def bounds(self) -> str:
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            span = f"{_fmt(low)} to {_fmt(high)}"
        elif low is not None:
            span = f"at least {_fmt(low)}"
        elif high is not None:
            span = f"at most {_fmt(high)}"
        else:
            span = "any"
        return f"{span} {self.unit}".strip()


def _whole(value: object) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError(value)


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# Every numeric Switchboard setting, by module (their docstrings say what each does).
NUMBERS: tuple[Number, ...] = (
    # wfm_site/settings.py
    Number("DB_CONN_MAX_AGE", "seconds", 0),
    Number("SECURE_HSTS_SECONDS", "seconds", 0),
    Number("SENTRY_TRACES_SAMPLE_RATE", "(a fraction of requests and tasks)", 0, 1, decimal=True),
    # collectors/conf.py
    Number("COLLECT_LOOKBACK_INTERVALS", "15-minute intervals", 0, 96 * 31),
    Number("COLLECT_CHUNK_INTERVALS", "15-minute intervals", 1, 96 * 31),
    Number("COLLECT_INITIAL_HISTORY_HOURS", "hours", 0.25, 24 * 366, decimal=True),
    Number("COLLECT_BACKFILL_BUDGET_SECONDS", "seconds", 0, 86400, decimal=True),
    Number("COLLECT_BACKFILL_MAX_CONNECTIONS", "connections", 0, 10_000),
    Number("COLLECT_HISTORY_DELAY_SECONDS", "seconds", 0, 86400),
    Number("COLLECT_CONFIG_INTERVAL_SECONDS", "seconds", 60, 7 * 86400),
    Number("COLLECT_SPREAD_SECONDS", "seconds", 0, 86400),
    Number("COLLECT_DISPATCH_BATCH_SIZE", "schedules", 1, 100_000),
    Number("COLLECT_DISPATCH_MAX_BATCHES", "batches", 1, 10_000),
    Number("COLLECT_SOFT_TIME_LIMIT", "seconds", 1, 86400),
    Number("COLLECT_TIME_LIMIT", "seconds", 1, 86400),
    Number("COLLECT_AGENT_STATES_SOFT_TIME_LIMIT", "seconds", 1, 3600),
    Number("COLLECT_AGENT_STATES_TIME_LIMIT", "seconds", 1, 3600),
    Number("COLLECT_QUEUE_GRACE_SECONDS", "seconds", 10, 86400),
    Number("COLLECT_AGENT_STATES_GRACE_SECONDS", "seconds", 2, 3600),
    Number("COLLECT_CONFIG_DEACTIVATE_SHARE", "(a share of active agents or queues)", 0, 1, decimal=True),
    Number("COLLECT_MAX_RETRIES", "retries", 0, 100),
    Number("COLLECT_RETRY_BASE_SECONDS", "seconds", 0.001, 86400, decimal=True),
    Number("COLLECT_RETRY_MAX_SECONDS", "seconds", 0.001, 86400, decimal=True),
    Number("COLLECT_AGENT_STATES_GAP_INTERVALS", "polling intervals", 1, 1000),
    # collectors/health_conf.py
    Number("HEALTH_FAILING_AFTER", "consecutive failures", 1, 10_000),
    Number("HEALTH_AUTOPAUSE_FAILURES", "consecutive failures", 1, 1_000_000),
    Number("HEALTH_AUTOPAUSE_SECONDS", "seconds", 0, 366 * 86400),
    Number("HEALTH_FLAP_THRESHOLD", "flips per hour", 1, 10_000),
    Number("HEALTH_GROUP_SECONDS", "seconds", 0, 3600),
    Number("HEALTH_TOKEN_WARNING_DAYS", "days", 0, 3660),
    Number("HEALTH_GAP_DAYS", "days", 1, 366),
    Number("HEALTHZ_MAX_AGE_SECONDS", "seconds", 1, 86400),
    # tokens/conf.py
    Number("TOKENS_SEND_HOUR", "(local hour of the day)", 0, 23),
    Number("TOKENS_VERIFY_MAX_AGE", "seconds", 60, 366 * 86400),
    Number("TOKENS_MAIL_MAX_ATTEMPTS", "attempts", 1, 100),
    Number("TOKENS_MAIL_RETRY_BASE", "seconds", 1, 86400),
    Number("TOKENS_CLAIM_TIMEOUT", "seconds", 1, 86400),
    Number("TOKENS_BANNER_DAYS", "days", 0, 3660),
    Number("TOKENS_WIDGET_DAYS", "days", 0, 3660),
    # api/conf.py
    Number("API_PAGE_SIZE", "rows", 1, 100_000),
    Number("API_MAX_PAGE_SIZE", "rows", 1, 100_000),
    Number("API_CURSOR_MAX_AGE_DAYS", "days", 0.01, 3660, decimal=True),
    Number("API_LAST_USED_RESOLUTION_SECONDS", "seconds", 0, 86400),
    # notifications/conf.py (which still reads the TOKENS_MAIL_* and TOKENS_CLAIM_TIMEOUT names above)
    Number("NOTIFY_MAIL_MAX_ATTEMPTS", "attempts", 1, 100),
    Number("NOTIFY_MAIL_RETRY_BASE", "seconds", 1, 86400),
    Number("NOTIFY_CLAIM_TIMEOUT", "seconds", 1, 86400),
    Number("WEBHOOKS_MAX_ATTEMPTS", "attempts", 1, 100),
    Number("WEBHOOKS_RETRY_BASE", "seconds", 1, 86400),
    Number("WEBHOOKS_RETRY_MAX", "seconds", 1, 7 * 86400),
    Number("WEBHOOKS_DISABLE_AFTER", "consecutive failures", 1, 10_000),
    Number("WEBHOOKS_TIMEOUT", "seconds", 1, 300),
    Number("WEBHOOKS_CLAIM_TIMEOUT", "seconds", 1, 86400),
    Number("WEBHOOKS_BATCH", "deliveries", 1, 100_000),
    # collectors/ftp_conf.py
    Number("FTP_RECEIVER_PORT", "(a TCP port)", 1, 65535),
    # integrations/sandbox/conf.py (0 lets the system choose a free port)
    Number("SANDBOX_PORT", "(a TCP port)", 0, 65535),
    Number("SANDBOX_BACKFILL_HOURS", "hours", 0, 24 * 366),
    Number("SANDBOX_TOKEN_LIFETIME", "seconds", 1, 366 * 86400),
)

BOOLEAN_SETTINGS = (
    "DEBUG",
    "BEHIND_TLS_PROXY",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "CELERY_TASK_EVENTS",
)
# Read from the environment only (Django settings of these names hold the parsed value).
ENV_ONLY = {*BOOLEAN_SETTINGS, "DB_CONN_MAX_AGE", "SECURE_HSTS_SECONDS"}
LOG_FORMATS = ("plain", "json")
MIN_TOKEN_LENGTH = 16
# DRF reads the period's first letter only: "600/min", "20/s", "10000/day".
THROTTLE_RATE = re.compile(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)")
EMAIL_SCHEMES = (
    "smtp",
    "smtps",
    "smtp+tls",
    "smtp+ssl",
    "consolemail",
    "filemail",
    "memorymail",
    "dummymail",
)
BROKER_SCHEMES = ("redis", "rediss", "filesystem", "amqp", "amqps", "memory")
KNOWN_STREAMS = tuple(STREAMS)  # the stream registry's keys
# Longer than the longest hard time limit, or Redis redelivers a run still in progress
# (wfm_site/settings.py sets it for the Redis broker).
REDIS_VISIBILITY_TIMEOUT_KEY = "visibility_timeout"


def raw(name: str) -> Any:
    """The value as set: a Django setting of that name, else the environment, else MISSING."""
    if name not in ENV_ONLY and hasattr(settings, name):
        value = getattr(settings, name)
        if value is not None:
            return value
    return os.environ.get(name, MISSING)


def error(name: str, value: object, problem: str, *, secret: bool = False, id: str = "E001") -> Error:
    shown = "(value hidden)" if secret else f"= {value!r}"
    return Error(f"{name} {shown} {problem}", id=f"switchboard.{id}")


def _each(names: Iterable[tuple[str, Callable[[object], str | None]]]) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    for name, validate in names:
        value = raw(name)
        if value is MISSING or value == "":
            continue
        problem = validate(value)
        if problem:
            found.append(error(name, value, problem))
    return found


@checks.register("switchboard")
def check_numbers(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    found = _each((n.name, n.validate) for n in NUMBERS)
    found += _each((name, _boolean) for name in BOOLEAN_SETTINGS)
    found += _time_limits()
    return found


def _boolean(value: object) -> str | None:
    if isinstance(value, bool) or str(value).strip().lower() in BOOLEANS:
        return None
    return "is not a boolean (true or false)"


def _number(name: str, default: float) -> float:
    value = raw(name)
    try:
        return float(value) if value is not MISSING and value != "" else default
    except (TypeError, ValueError):
        return default


def _shown(name: str, number: float) -> object:
    """The value as the operator wrote it (or the default in effect)."""
    value = raw(name)
    return value if value is not MISSING and value != "" else int(number) if number.is_integer() else number


def _time_limits() -> list[CheckMessage]:
    """A soft limit must come before the hard one; a hard limit past Redis's visibility
    timeout has a run still in progress delivered to a second worker."""
    found: list[CheckMessage] = []
    pairs = (
        ("COLLECT_SOFT_TIME_LIMIT", 600, "COLLECT_TIME_LIMIT", 660),
        ("COLLECT_AGENT_STATES_SOFT_TIME_LIMIT", 60, "COLLECT_AGENT_STATES_TIME_LIMIT", 90),
    )
    visibility = (getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}).get(
        REDIS_VISIBILITY_TIMEOUT_KEY
    )
    for soft_name, soft_default, hard_name, hard_default in pairs:
        soft, hard = _number(soft_name, soft_default), _number(hard_name, hard_default)
        if soft >= hard:
            # Celery's prefork pool starts the hard timer only when the soft one fires.
            found.append(
                error(
                    soft_name,
                    _shown(soft_name, soft),
                    f"is not below {hard_name} = {_fmt(hard)}: the worker would enforce neither "
                    "limit before the soft one",
                    id="E004",
                )
            )
        if visibility and hard >= float(visibility):
            found.append(
                error(
                    hard_name,
                    _shown(hard_name, hard),
                    f"is not below the broker's visibility timeout ({visibility} s): Redis would hand "
                    "a run still in progress to a second worker",
                    id="E002",
                )
            )
    base, ceiling = _number("COLLECT_RETRY_BASE_SECONDS", 15.0), _number("COLLECT_RETRY_MAX_SECONDS", 900.0)
    if ceiling < base:
        found.append(
            error(
                "COLLECT_RETRY_MAX_SECONDS",
                _shown("COLLECT_RETRY_MAX_SECONDS", ceiling),
                f"is below COLLECT_RETRY_BASE_SECONDS = {_fmt(base)}",
                id="E003",
            )
        )
    return found


@checks.register("switchboard")
def check_choices(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    log_format = getattr(settings, "LOG_FORMAT", "plain")
    if log_format not in LOG_FORMATS:
        found.append(error("LOG_FORMAT", log_format, f"is not one of {', '.join(LOG_FORMATS)}"))
    level = str(getattr(settings, "LOG_LEVEL", "INFO"))
    if level.upper() not in settings.LOG_LEVELS:
        found.append(error("LOG_LEVEL", level, f"is not one of {', '.join(settings.LOG_LEVELS)}"))
    found += _grace_seconds()
    found += _stages()
    found += _strings("TOKENS_ROLE_ADDRESSES")
    rate = raw("API_THROTTLE_RATE")
    if rate is not MISSING and rate != "" and not THROTTLE_RATE.fullmatch(str(rate).strip()):
        found.append(error("API_THROTTLE_RATE", rate, "is not a rate like 600/min (per s, min, hour or day)"))
    zone = raw("SANDBOX_ZONE")
    if zone is not MISSING and zone != "":
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            found.append(error("SANDBOX_ZONE", zone, "is not a known time zone (e.g. America/Chicago)"))
    return found


def _grace_seconds() -> list[CheckMessage]:
    value = raw("HEALTH_GRACE_SECONDS")
    if value is MISSING or value == "":
        return []
    if isinstance(value, str):
        pairs = [part.partition("=")[::2] for part in value.split(",") if part.strip()]
        if any(not stream.strip() for stream, _ in pairs):
            return [error("HEALTH_GRACE_SECONDS", value, "is not a list of stream=seconds")]
        items = [(stream.strip(), seconds.strip()) for stream, seconds in pairs]
    elif isinstance(value, dict):
        items = list(value.items())
    else:
        return [error("HEALTH_GRACE_SECONDS", value, "is not a mapping of stream to seconds")]
    found: list[CheckMessage] = []
    rule = Number("HEALTH_GRACE_SECONDS", "seconds", 0, 7 * 86400)
    for stream, seconds in items:
        if stream not in KNOWN_STREAMS:
            found.append(
                error(
                    "HEALTH_GRACE_SECONDS", value, f"names {stream!r}, not one of {', '.join(KNOWN_STREAMS)}"
                )
            )
        elif problem := rule.validate(seconds):
            found.append(error("HEALTH_GRACE_SECONDS", value, f"gives {stream} {seconds!r}, which {problem}"))
    return found


def _stages() -> list[CheckMessage]:
    value: Any = getattr(settings, "TOKENS_REMINDER_STAGES", MISSING)
    if value is MISSING:
        return []
    try:
        pairs = [(str(name), _whole(days)) for name, days in value]
    except (TypeError, ValueError):
        return [error("TOKENS_REMINDER_STAGES", value, "is not a list of (name, days left) pairs")]
    found: list[CheckMessage] = []
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or "expired" in names:
        found.append(error("TOKENS_REMINDER_STAGES", value, "repeats a stage name or uses 'expired'"))
    if any(days < 0 for _, days in pairs):
        found.append(error("TOKENS_REMINDER_STAGES", value, "has a negative number of days"))
    return found


def _strings(name: str) -> list[CheckMessage]:
    value = raw(name)
    if value is MISSING or isinstance(value, str):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return [error(name, value, "is not a list of strings")]
    return []


@checks.register("switchboard")
def check_addresses(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    site = getattr(settings, "SITE_URL", "")
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        found.append(error("SITE_URL", site, "is not an absolute http(s) address with no path"))
    email_url = str(getattr(settings, "EMAIL_URL", ""))
    scheme = email_url.partition("://")[0]
    if scheme not in EMAIL_SCHEMES:
        shown = urlsplit(email_url)._replace(netloc=urlsplit(email_url).hostname or "").geturl()
        found.append(error("EMAIL_URL", shown, f"has no known scheme ({', '.join(EMAIL_SCHEMES)})"))
    broker = str(getattr(settings, "CELERY_BROKER_URL", ""))
    if broker.partition("://")[0] not in BROKER_SCHEMES:
        shown = urlsplit(broker)._replace(netloc=urlsplit(broker).hostname or "").geturl()
        found.append(error("CELERY_BROKER_URL", shown, f"has no known scheme ({', '.join(BROKER_SCHEMES)})"))
    masquerade = raw("FTP_MASQUERADE_ADDRESS")
    if masquerade is not MISSING and masquerade != "":
        try:
            ipaddress.ip_address(str(masquerade))
        except ValueError:
            found.append(error("FTP_MASQUERADE_ADDRESS", masquerade, "is not an IP address"))
    from integrations.egress import parse_allow_list

    allow = getattr(settings, "VENDOR_EGRESS_ALLOW", [])
    try:
        parse_allow_list(list(allow))
    except (ValueError, AttributeError, TypeError) as exc:
        found.append(error("VENDOR_EGRESS_ALLOW", allow, f"is not a list of networks in CIDR form: {exc}"))
    sender = str(getattr(settings, "DEFAULT_FROM_EMAIL", ""))
    if "@" not in parseaddr(sender)[1]:
        found.append(error("DEFAULT_FROM_EMAIL", sender, "is not an email address"))
    passive = raw("FTP_PASSIVE_PORTS")
    if passive is not MISSING and passive != "" and (problem := _port_range(str(passive))):
        found.append(error("FTP_PASSIVE_PORTS", passive, problem))
    for name in ("FTP_TLS_CERTFILE", "FTP_TLS_KEYFILE"):
        path = raw(name)
        if path is not MISSING and path != "" and not Path(str(path)).is_file():
            found.append(error(name, path, "is not a readable file"))
    root = raw("DROP_ROOT")
    folder = Path(str(root)).expanduser() if root is not MISSING and root != "" else None
    if folder is not None and folder.exists() and not folder.is_dir():
        found.append(error("DROP_ROOT", root, "exists and is not a folder"))
    return found


def _port_range(value: str) -> str | None:
    first, _, last = value.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        return "is not a port range like 60000-60100"
    if not 1 <= low <= high <= 65535:
        return "is not a port range within 1-65535 with its first port first"
    return None


@checks.register("switchboard")
def check_secrets(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    from cryptography.fernet import Fernet

    found: list[CheckMessage] = []
    for position, key in enumerate(getattr(settings, "FIELD_ENCRYPTION_KEYS", []), start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            found.append(
                error(
                    "FIELD_ENCRYPTION_KEYS",
                    None,
                    f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                    "make one with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`)",
                    secret=True,
                )
            )
    token = raw("METRICS_TOKEN")
    if token is not MISSING and token != "" and len(str(token)) < MIN_TOKEN_LENGTH:
        found.append(
            error(
                "METRICS_TOKEN",
                None,
                f"is shorter than {MIN_TOKEN_LENGTH} characters: anyone could guess it",
                secret=True,
            )
        )
    dsn = getattr(settings, "SENTRY_DSN", "")
    if dsn:
        from sentry_sdk.utils import BadDsn, Dsn

        try:
            Dsn(dsn)
        except BadDsn:
            found.append(
                error("SENTRY_DSN", None, "is not a Sentry DSN (https://KEY@HOST/PROJECT)", secret=True)
            )
    return found


@checks.register("switchboard", deploy=True)
def check_production_services(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """What `make run` may use and production must not, when DEBUG is off."""
    if settings.DEBUG:
        return []
    found: list[CheckMessage] = []
    broker = str(getattr(settings, "CELERY_BROKER_URL", ""))
    if broker.startswith("filesystem://"):
        found.append(
            error(
                "CELERY_BROKER_URL",
                broker,
                "is the filesystem broker (for `make run` only): set redis://HOST:6379/DB",
                id="E101",
            )
        )
    backend = str(getattr(settings, "EMAIL_BACKEND", ""))
    if backend.endswith(("filebased.EmailBackend", "console.EmailBackend", "dummy.EmailBackend")):
        found.append(
            error(
                "EMAIL_URL",
                getattr(settings, "EMAIL_URL", backend).split("@")[-1],
                "does not send email (files or console are for `make run` only): set smtp://...",
                id="E102",
            )
        )
    host = urlsplit(getattr(settings, "SITE_URL", "")).hostname or ""
    if _is_loopback(host):
        found.append(
            error(
                "SITE_URL",
                settings.SITE_URL,
                "is a loopback address: links in emails would point at the recipient's own machine",
                id="E103",
            )
        )
    return found


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- at every process start --------------------------------------------------------------------


def refuse_to_start_on_errors(process: str) -> None:
    """Run every system check, as `runserver` does; exit naming each error when one fails.

    Called by gunicorn (wfm_site/wsgi.py) and by Celery workers and beat (wfm_site/celery.py),
    so a bad setting stops the process at start, not at the first run that reads it.
    """
    messages = checks.run_checks(include_deployment_checks=False)
    for message in messages:
        if not message.is_serious():
            log.warning("%s", message)
    serious = [m for m in messages if m.is_serious() and not m.is_silenced()]
    if serious:
        lines = "\n".join(f"  {m}" for m in serious)
        sys.stderr.write(f"{process} refuses to start: {len(serious)} setting(s) wrong\n{lines}\n")
        raise SystemExit(3)

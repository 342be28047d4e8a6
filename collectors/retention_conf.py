"""Settings of retention (`manage.py prune` and its hourly beat task), as documented properties.

Each reads `settings.RETENTION_<NAME>` when the project sets it, else the environment variable
of the same name, else the default; read at use, so `override_settings` works. A value that
is not a whole number of at least the minimum raises ImproperlyConfigured naming the setting.
"""

from __future__ import annotations

from datetime import timedelta as td

import environ
from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()


def _int(name: str, default: int, minimum: int = 1) -> int:
    value = getattr(django_settings, name, None)
    if value is None:
        value = _env.str(name, default=str(default))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r}: must be at least {minimum}")
    return number


class RetentionSettings:
    @property
    def RUNS_OK(self) -> td:
        """RETENTION_RUNS_OK_DAYS (7): successful runs of history and configuration streams.

        Never less than the health monitor's gap window (HEALTH_GAP_DAYS + 1): gap detection
        counts an interval collected when an ok history run covered it.
        """
        return td(days=_int("RETENTION_RUNS_OK_DAYS", 7))

    @property
    def AGENT_STATE_RUNS_OK(self) -> td:
        """RETENTION_AGENT_STATE_RUNS_OK_HOURS (48): successful agent-state polls (one every
        few seconds per connection). At least 25: the board's strips show the last 24 hours."""
        return td(hours=_int("RETENTION_AGENT_STATE_RUNS_OK_HOURS", 48, minimum=25))

    @property
    def RUNS_FAILED(self) -> td:
        """RETENTION_RUNS_FAILED_DAYS (90): failed, auth-failed and retried runs."""
        return td(days=_int("RETENTION_RUNS_FAILED_DAYS", 90))

    @property
    def HISTORY(self) -> td:
        """RETENTION_HISTORY_DAYS (365): health flips, token alerts of past expiries, digests."""
        return td(days=_int("RETENTION_HISTORY_DAYS", 365))

    @property
    def DROP_CALLS(self) -> td:
        """RETENTION_DROP_CALLS_DAYS (14): the TCN call ledger, by the arrival of its files.

        A call is kept so that the same call in a later, overlapping file counts once. The
        scheduled file covers the last 15 minutes; an overlapping one is a report job re-run by
        hand after an outage, assumed to cover at most a week back. Two weeks leaves a week of
        slack. Calls before the horizon in a file that arrives later are ignored (and logged),
        so pruning never recomputes an interval from part of its calls.
        """
        return td(days=_int("RETENTION_DROP_CALLS_DAYS", 14))

    @property
    def DROP_FILES(self) -> td:
        """RETENTION_DROP_FILES_DAYS (90): the drop-file ledger (one row per file, the content
        hash that makes a re-sent file a no-op, and the reason of a quarantined one)."""
        return td(days=_int("RETENTION_DROP_FILES_DAYS", 90))

    @property
    def BANNERS(self) -> td:
        """RETENTION_BANNER_DAYS (7): the login banner's once-a-day marks (only today's matter)."""
        return td(days=_int("RETENTION_BANNER_DAYS", 7))

    @property
    def TENANT_DATA_MIN(self) -> td:
        """The least a tenant's `data_retention_days` keeps, whatever is stored (30 days)."""
        return td(days=30)

    @property
    def BATCH_SIZE(self) -> int:
        """RETENTION_BATCH_SIZE (2000): rows deleted per transaction, so no lock is held long."""
        return _int("RETENTION_BATCH_SIZE", 2000)

    @property
    def LEASE_SECONDS(self) -> int:
        """RETENTION_LEASE_SECONDS (600): how long a pruner holds a table between two batches
        before another pruner may take it over (a pruner that died)."""
        return _int("RETENTION_LEASE_SECONDS", 600, minimum=10)


app_settings = RetentionSettings()


def check_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """System check (`manage.py check`, every process start): each RETENTION_* setting parses."""
    errors: list[CheckMessage] = []
    for name in dir(RetentionSettings):
        if name.isupper():
            try:
                getattr(app_settings, name)
            except ImproperlyConfigured as exc:
                errors.append(Error(str(exc), id="collectors.E010", hint="see docs/retention.md"))
    return errors

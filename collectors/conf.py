"""Settings of the collection engine, as documented properties (django-allauth style).

Each reads `settings.COLLECT_<NAME>` when the project sets it, else the environment
variable of the same name, else the default. Read at use, so `override_settings` works.
"""

from __future__ import annotations

from datetime import timedelta as td

import environ
from django.conf import settings as django_settings

_env = environ.Env()


def _int(name: str, default: int) -> int:
    value = getattr(django_settings, name, None)
    if value is None:
        value = _env.int(name, default=default)
    return int(value)


def _float(name: str, default: float) -> float:
    value = getattr(django_settings, name, None)
    if value is None:
        value = _env.float(name, default=default)
    return float(value)


class CollectSettings:
    @property
    def LOOKBACK_INTERVALS(self) -> int:
        """Closed intervals re-read before the cursor on every history run (vendors revise them)."""
        return _int("COLLECT_LOOKBACK_INTERVALS", 4)

    @property
    def CHUNK_INTERVALS(self) -> int:
        """At most this many intervals per history request, whatever the vendor allows (its
        `max_request_days` and the connection's override are the usual limit)."""
        return max(1, _int("COLLECT_CHUNK_INTERVALS", 96 * 31))

    @property
    def INITIAL_HISTORY(self) -> td:
        """How far back the first history run of a new connection starts, unless the connection
        sets its own history start (`VendorConnection.backfill_days`)."""
        return td(hours=_float("COLLECT_INITIAL_HISTORY_HOURS", 24))

    @property
    def BACKFILL_BUDGET_SECONDS(self) -> float:
        """A history run fetches further chunks of a backfill only while this much time has not
        passed since it started (kept well inside SOFT_TIME_LIMIT: one chunk more may start)."""
        return max(0.0, _float("COLLECT_BACKFILL_BUDGET_SECONDS", 240.0))

    @property
    def BACKFILL_MAX_CONNECTIONS(self) -> int:
        """How many connections may backfill more than one chunk per run at once (the others
        move one chunk per run), so backfills never take every history worker."""
        return max(0, _int("COLLECT_BACKFILL_MAX_CONNECTIONS", 4))

    @property
    def HISTORY_DELAY_SECONDS(self) -> int:
        """A history run starts this long after an interval closes, so the vendor has closed it too."""
        return _int("COLLECT_HISTORY_DELAY_SECONDS", 60)

    @property
    def CONFIG_INTERVAL_SECONDS(self) -> int:
        """How often configuration (agents, queues, memberships) is imported."""
        return max(60, _int("COLLECT_CONFIG_INTERVAL_SECONDS", 3600))

    @property
    def SPREAD_SECONDS(self) -> int:
        """Width over which the history runs of many connections are spread (each at a stable
        phase; at most half the stream's interval, less its delay). Polls and configuration
        imports are spread over their whole interval instead."""
        return max(0, _int("COLLECT_SPREAD_SECONDS", 300))

    @property
    def DISPATCH_BATCH_SIZE(self) -> int:
        """Schedules claimed per query by the dispatcher."""
        return max(1, _int("COLLECT_DISPATCH_BATCH_SIZE", 500))

    @property
    def DISPATCH_MAX_BATCHES(self) -> int:
        """Batches per tick at most, so one tick never runs for long."""
        return max(1, _int("COLLECT_DISPATCH_MAX_BATCHES", 20))

    @property
    def SOFT_TIME_LIMIT(self) -> int:
        """Soft time limit (seconds) of a history or configuration run."""
        return _int("COLLECT_SOFT_TIME_LIMIT", 600)

    @property
    def TIME_LIMIT(self) -> int:
        """Hard time limit (seconds) of a history or configuration run."""
        return _int("COLLECT_TIME_LIMIT", 660)

    @property
    def AGENT_STATES_SOFT_TIME_LIMIT(self) -> int:
        return _int("COLLECT_AGENT_STATES_SOFT_TIME_LIMIT", 60)

    @property
    def AGENT_STATES_TIME_LIMIT(self) -> int:
        return _int("COLLECT_AGENT_STATES_TIME_LIMIT", 90)

    @property
    def QUEUE_GRACE_SECONDS(self) -> int:
        """How long an enqueued history/config run may wait for a worker: its task expires
        then, and its claim lapses just after, so a message lost with the broker frees its
        stream within minutes."""
        return max(10, _int("COLLECT_QUEUE_GRACE_SECONDS", 180))

    @property
    def AGENT_STATES_GRACE_SECONDS(self) -> int:
        """What a started agent-state poll may take beyond its interval. Its lease runs one
        interval plus this from its start, and its time limits are cut to fit inside, so a
        killed worker's stream is polled again within one interval plus this grace."""
        return max(2, _int("COLLECT_AGENT_STATES_GRACE_SECONDS", 10))

    @property
    def CONFIG_DEACTIVATE_SHARE(self) -> float:
        """A configuration answer that would deactivate more than this share of a connection's
        active agents, or of its active queues, is held as suspicious (collectors.config_import)."""
        return min(1.0, max(0.0, _float("COLLECT_CONFIG_DEACTIVATE_SHARE", 0.5)))

    @property
    def MAX_RETRIES(self) -> int:
        """Retries of a run that failed with a transient error (timeouts, 429, 5xx)."""
        return _int("COLLECT_MAX_RETRIES", 5)

    @property
    def RETRY_BASE_SECONDS(self) -> float:
        return _float("COLLECT_RETRY_BASE_SECONDS", 15.0)

    @property
    def RETRY_MAX_SECONDS(self) -> float:
        return _float("COLLECT_RETRY_MAX_SECONDS", 900.0)

    @property
    def GAP_INTERVALS(self) -> int:
        """A poll after more than this many missed polling intervals closes open states where last seen."""
        return _int("COLLECT_AGENT_STATES_GAP_INTERVALS", 3)


app_settings = CollectSettings()

"""Settings of the health monitor, read lazily so tests can override them.

Each property reads a Django setting of the same name (override in settings or tests)
and falls back to the environment variable, then to the documented default.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td
from typing import Any

import environ
from django.conf import settings

_env = environ.Env()


def _setting(name: str, default: object, cast: type = int) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    return _env(name, cast=cast, default=default)


class HealthConf:
    @property
    def GRACE_SECONDS(self) -> dict[str, int]:
        """HEALTH_GRACE_SECONDS: per stream, e.g. env `volume=1800,agent_states=120`."""
        value = getattr(settings, "HEALTH_GRACE_SECONDS", None)
        if value is None:
            value = _env.dict("HEALTH_GRACE_SECONDS", cast={"value": int}, default={})
        # Defaults: each stream's declaration (`Stream.grace_seconds`).
        from collectors.streams import all_streams

        defaults = {stream.key: stream.grace_seconds for stream in all_streams()}
        return {**defaults, **{k: int(v) for k, v in dict(value).items()}}

    def grace(self, stream: str) -> td:
        return td(seconds=self.GRACE_SECONDS.get(stream, 900))

    def window(self, stream: str, interval_seconds: int) -> td:
        """How long a stream may go without a success before it is late."""
        return td(seconds=interval_seconds) + self.grace(stream)

    def late_after(self, stream: str, interval_seconds: int, since: datetime) -> datetime:
        """The first moment a stream counted from `since` is late (late means past the window)."""
        return since + self.window(stream, interval_seconds) + td(microseconds=1)

    @property
    def FAILING_AFTER(self) -> int:
        """HEALTH_FAILING_AFTER: consecutive failures that make a stream `failing`."""
        return int(_setting("HEALTH_FAILING_AFTER", 3))

    @property
    def AUTOPAUSE_FAILURES(self) -> int:
        """HEALTH_AUTOPAUSE_FAILURES: consecutive failures before a stream is paused."""
        return int(_setting("HEALTH_AUTOPAUSE_FAILURES", 30))

    @property
    def AUTOPAUSE_AFTER(self) -> td:
        """HEALTH_AUTOPAUSE_SECONDS: ...and the failures must span at least this long."""
        return td(seconds=int(_setting("HEALTH_AUTOPAUSE_SECONDS", 86400)))

    @property
    def FLAP_THRESHOLD(self) -> int:
        """HEALTH_FLAP_THRESHOLD: more flips than this in an hour are summarised in one mail."""
        return int(_setting("HEALTH_FLAP_THRESHOLD", 4))

    @property
    def GROUP_WINDOW(self) -> td:
        """HEALTH_GROUP_SECONDS: the down (or recovered) streams of one connection within this
        many seconds of the first go out in one mail; 0 mails each flip at once."""
        return td(seconds=int(_setting("HEALTH_GROUP_SECONDS", 60)))

    @property
    def TOKEN_WARNING_DAYS(self) -> int:
        """HEALTH_TOKEN_WARNING_DAYS: a token expiring within this many days shows a warning."""
        return int(_setting("HEALTH_TOKEN_WARNING_DAYS", 14))

    @property
    def GAP_DAYS(self) -> int:
        """HEALTH_GAP_DAYS: how far back gaps are counted."""
        return int(_setting("HEALTH_GAP_DAYS", 7))

    @property
    def HEARTBEAT_MAX_AGE(self) -> td:
        """HEALTHZ_MAX_AGE_SECONDS: how recent the dispatcher and worker heartbeats must be."""
        return td(seconds=int(_setting("HEALTHZ_MAX_AGE_SECONDS", 60)))

    @property
    def METRICS_TOKEN(self) -> str:
        """METRICS_TOKEN: bearer token for /metrics; unset means /metrics answers 404."""
        return str(_setting("METRICS_TOKEN", "", str) or "")


conf = HealthConf()

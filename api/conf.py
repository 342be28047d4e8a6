"""Settings of the read API, as documented properties (see collectors.conf).

Each reads `settings.API_<NAME>` when the project sets it, else the environment variable
of the same name, else the default. Read at use, so `override_settings` works.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta as td
from typing import Any, TypeVar

import environ
from django.conf import settings as django_settings

_env = environ.Env()
T = TypeVar("T")


def _get(name: str, default: T, cast: Callable[[Any], T]) -> T:
    value = getattr(django_settings, name, None)
    if value is None:
        value = _env.get_value(name, cast=cast, default=default)
    return cast(value)


class ApiSettings:
    @property
    def THROTTLE_RATE(self) -> str:
        """Requests per key, as DRF writes a rate: `600/min`, `20/s`, `10000/day`."""
        return str(_get("API_THROTTLE_RATE", "600/min", str))

    @property
    def PAGE_SIZE(self) -> int:
        """Rows per page when the request names no `limit`."""
        return max(1, int(_get("API_PAGE_SIZE", 500, int)))

    @property
    def MAX_PAGE_SIZE(self) -> int:
        """The largest `limit` a request may ask for."""
        return max(1, int(_get("API_MAX_PAGE_SIZE", 5000, int)))

    @property
    def CURSOR_MAX_AGE(self) -> td:
        """How long a change cursor stays valid; an older one gets 410 Gone.

        Retention prunes old rows without reporting them, so a consumer away longer than
        this may have missed rows for good and must sync afresh.
        """
        return td(days=float(_get("API_CURSOR_MAX_AGE_DAYS", 30.0, float)))

    @property
    def LAST_USED_RESOLUTION(self) -> td:
        """A key's last-used time is written at most this often (not a write per request)."""
        return td(seconds=int(_get("API_LAST_USED_RESOLUTION_SECONDS", 60, int)))


app_settings = ApiSettings()

"""Settings of the tokens app, one documented property each (django-allauth style).

The mail settings (retries, claim timeout, link lifetime, role addresses) belong to the
notifications app (`notifications.conf`), which still reads their TOKENS_* names.

Every name can be set in Django settings; most also read an environment variable of the
same name, so an operator can change them without touching code.
"""

from __future__ import annotations

import environ
from django.conf import settings

_env = environ.Env()

# Default reminder policy: stage name -> days left (90, 60, 30, 21, then daily from 14 to 0).
# `expired` is implicit: sent once when days_left drops below zero.
DEFAULT_STAGES: tuple[tuple[str, int], ...] = (
    ("d90", 90),
    ("d60", 60),
    ("d30", 30),
    ("w3", 21),
    *((f"d{n}", n) for n in range(14, 0, -1)),
    ("d0", 0),
)
EXPIRED = "expired"


class AppSettings:
    @property
    def STAGES(self) -> tuple[tuple[str, int], ...]:
        """TOKENS_REMINDER_STAGES: (name, days_left) pairs; a tenant may override the days."""
        return tuple(tuple(s) for s in getattr(settings, "TOKENS_REMINDER_STAGES", DEFAULT_STAGES))

    @property
    def SEND_HOUR(self) -> int:
        """TOKENS_SEND_HOUR: local hour (0-23) from which a tenant's reminders go out."""
        return int(getattr(settings, "TOKENS_SEND_HOUR", _env.int("TOKENS_SEND_HOUR", default=8)))

    @property
    def BANNER_DAYS(self) -> int:
        """TOKENS_BANNER_DAYS: the login banner shows tokens with at most this many days left."""
        return int(getattr(settings, "TOKENS_BANNER_DAYS", 14))

    @property
    def WIDGET_DAYS(self) -> int:
        """TOKENS_WIDGET_DAYS: the dashboard widget lists tokens expiring within this many days."""
        return int(getattr(settings, "TOKENS_WIDGET_DAYS", 90))

    @property
    def TRACKED_VENDORS(self) -> tuple[str, ...]:
        """TOKENS_TRACKED_VENDORS: vendors whose access token expires (TCN's lives one year).

        Each of their connections must have a token record; one without is shown as
        "token expiry unknown" and its account owners are asked once to record it.
        """
        return tuple(getattr(settings, "TOKENS_TRACKED_VENDORS", ("tcn",)))


app_settings = AppSettings()

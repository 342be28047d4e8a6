"""Settings of the tokens app, one documented property each (django-allauth style).

Every name can be set in Django settings; most also read an environment variable of the
same name, so an operator can change them without touching code.
"""

from __future__ import annotations

import environ
from django.conf import settings

_env = environ.Env()

# Default reminder policy (docs/tokens.md, "Reminder stages"): stage name -> days left.
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
    def VERIFY_MAX_AGE(self) -> int:
        """TOKENS_VERIFY_MAX_AGE: seconds a verification or confirmation link stays valid."""
        return int(
            getattr(settings, "TOKENS_VERIFY_MAX_AGE", _env.int("TOKENS_VERIFY_MAX_AGE", default=3 * 86400))
        )

    @property
    def MAX_ATTEMPTS(self) -> int:
        """TOKENS_MAIL_MAX_ATTEMPTS: tries per message before a transient failure becomes permanent."""
        return int(
            getattr(settings, "TOKENS_MAIL_MAX_ATTEMPTS", _env.int("TOKENS_MAIL_MAX_ATTEMPTS", default=5))
        )

    @property
    def RETRY_BASE_SECONDS(self) -> int:
        """TOKENS_MAIL_RETRY_BASE: first retry delay; doubles per attempt (60, 120, 240, ...)."""
        return int(
            getattr(settings, "TOKENS_MAIL_RETRY_BASE", _env.int("TOKENS_MAIL_RETRY_BASE", default=60))
        )

    @property
    def CLAIM_TIMEOUT_SECONDS(self) -> int:
        """TOKENS_CLAIM_TIMEOUT: a claim older than this (a worker died mid-send) may be taken again."""
        return int(getattr(settings, "TOKENS_CLAIM_TIMEOUT", _env.int("TOKENS_CLAIM_TIMEOUT", default=900)))

    @property
    def BANNER_DAYS(self) -> int:
        """TOKENS_BANNER_DAYS: the login banner shows tokens with at most this many days left."""
        return int(getattr(settings, "TOKENS_BANNER_DAYS", 14))

    @property
    def WIDGET_DAYS(self) -> int:
        """TOKENS_WIDGET_DAYS: the dashboard widget lists tokens expiring within this many days."""
        return int(getattr(settings, "TOKENS_WIDGET_DAYS", 90))

    @property
    def ROLE_ADDRESS_PREFIXES(self) -> tuple[str, ...]:
        """TOKENS_ROLE_ADDRESSES: local parts that name a group, not a person (a warning, not a refusal)."""
        return tuple(
            getattr(
                settings,
                "TOKENS_ROLE_ADDRESSES",
                (
                    "info",
                    "support",
                    "team",
                    "noreply",
                    "no-reply",
                    "admin",
                    "sales",
                    "contact",
                    "help",
                    "office",
                    "billing",
                    "it",
                    "hr",
                    "marketing",
                    "webmaster",
                    "postmaster",
                    "hello",
                    "all",
                    "staff",
                    "ops",
                    "operations",
                    "service",
                ),
            )
        )


app_settings = AppSettings()

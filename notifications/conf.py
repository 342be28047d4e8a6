"""Settings of the notifications app, one documented property each (django-allauth style).

Every name can be set in Django settings or as an environment variable of the same name.
"""

from __future__ import annotations

import environ
from django.conf import settings

_env = environ.Env()


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, _env.int(name, default=default)))


class AppSettings:
    @property
    def MAX_ATTEMPTS(self) -> int:
        """WEBHOOKS_MAX_ATTEMPTS: tries per delivery before it is given up (shown as failed)."""
        return max(1, _int("WEBHOOKS_MAX_ATTEMPTS", 8))

    @property
    def RETRY_BASE_SECONDS(self) -> int:
        """WEBHOOKS_RETRY_BASE: first retry delay; doubles per attempt, with jitter."""
        return max(1, _int("WEBHOOKS_RETRY_BASE", 30))

    @property
    def RETRY_MAX_SECONDS(self) -> int:
        """WEBHOOKS_RETRY_MAX: longest delay between two tries (also caps a Retry-After)."""
        return max(1, _int("WEBHOOKS_RETRY_MAX", 6 * 3600))

    @property
    def DISABLE_AFTER(self) -> int:
        """WEBHOOKS_DISABLE_AFTER: consecutive given-up deliveries that disable an endpoint."""
        return max(1, _int("WEBHOOKS_DISABLE_AFTER", 5))

    @property
    def TIMEOUT_SECONDS(self) -> int:
        """WEBHOOKS_TIMEOUT: seconds to connect, and again to wait for the answer."""
        return max(1, _int("WEBHOOKS_TIMEOUT", 10))

    @property
    def CLAIM_TIMEOUT_SECONDS(self) -> int:
        """WEBHOOKS_CLAIM_TIMEOUT: a claim older than this (a worker died mid-send) is taken again."""
        return max(self.TIMEOUT_SECONDS * 3, _int("WEBHOOKS_CLAIM_TIMEOUT", 300))

    @property
    def BATCH(self) -> int:
        """WEBHOOKS_BATCH: deliveries one beat tick sends at most."""
        return max(1, _int("WEBHOOKS_BATCH", 200))


app_settings = AppSettings()

"""Settings of the notifications app, one documented property each (django-allauth style).

Every name can be set in Django settings or as an environment variable of the same name.
The mail outbox's numbers were the tokens app's (`TOKENS_MAIL_MAX_ATTEMPTS`,
`TOKENS_MAIL_RETRY_BASE`, `TOKENS_CLAIM_TIMEOUT`); they now govern every email (token
reminders and health alerts alike) as `NOTIFY_MAIL_*`, and the old names are still read
when the new ones are not set. `TOKENS_VERIFY_MAX_AGE` and `TOKENS_ROLE_ADDRESSES` keep
their names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import environ
from django.conf import settings

_env = environ.Env()
MISSING = object()


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, _env.int(name, default=default)))


def _int_renamed(name: str, old: str, default: int) -> int:
    """`name`, else the name it had before (`old`), from settings or the environment."""
    for key in (name, old):
        value: Any = getattr(settings, key, MISSING)
        if value is MISSING:
            value = _env.int(key, default=None)
        if value is not None:
            return int(value)
    return default


@dataclass(frozen=True)
class Policy:
    """The numbers of the one set of delivery rules (`notifications.models.OutboxRow`).

    A transient failure is tried again after base · 2^(tries-1) seconds (or after what the
    receiver asked for), at least 1 s and at most `max_seconds`; with `jitter` the delay is
    scaled by 0.5 to 1, so many rows failing at once (an outage) do not retry in step.
    """

    max_attempts: int
    base_seconds: float
    max_seconds: float | None = None
    jitter: bool = False
    claim_timeout_seconds: int = 900

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """Delay before try `attempts + 1`."""
        delay = self.base_seconds * 2 ** max(attempts - 1, 0)
        if self.max_seconds is not None:
            delay = min(self.max_seconds, delay)
        return delay * (rng or random).uniform(0.5, 1.0) if self.jitter else delay

    def delay(self, attempts: int, wait: float | None = None) -> float:
        """Seconds until the next try: the backoff, or what the receiver asked for."""
        delay = self.backoff(attempts) if wait is None else wait
        delay = max(delay, 1.0)
        return delay if self.max_seconds is None else min(delay, self.max_seconds)


class AppSettings:
    # --- email (token reminders, digests, health alerts) -------------------------------
    @property
    def MAIL_MAX_ATTEMPTS(self) -> int:
        """NOTIFY_MAIL_MAX_ATTEMPTS (was TOKENS_MAIL_MAX_ATTEMPTS): tries per email row before a
        transient failure is given up."""
        return max(1, _int_renamed("NOTIFY_MAIL_MAX_ATTEMPTS", "TOKENS_MAIL_MAX_ATTEMPTS", 5))

    @property
    def MAIL_RETRY_BASE_SECONDS(self) -> int:
        """NOTIFY_MAIL_RETRY_BASE (was TOKENS_MAIL_RETRY_BASE): first retry delay of an email;
        doubles per attempt (60, 120, 240, ...)."""
        return max(1, _int_renamed("NOTIFY_MAIL_RETRY_BASE", "TOKENS_MAIL_RETRY_BASE", 60))

    @property
    def MAIL_CLAIM_TIMEOUT_SECONDS(self) -> int:
        """NOTIFY_CLAIM_TIMEOUT (was TOKENS_CLAIM_TIMEOUT): an email claim older than this (a worker
        died mid-send) may be taken again."""
        return max(1, _int_renamed("NOTIFY_CLAIM_TIMEOUT", "TOKENS_CLAIM_TIMEOUT", 900))

    @property
    def VERIFY_MAX_AGE(self) -> int:
        """TOKENS_VERIFY_MAX_AGE: seconds a verification or confirmation link stays valid."""
        return _int("TOKENS_VERIFY_MAX_AGE", 3 * 86400)

    @property
    def ROLE_ADDRESS_PREFIXES(self) -> tuple[str, ...]:
        """TOKENS_ROLE_ADDRESSES: local parts (or words of one: `cc-ops`) that name a group, not a
        person. Refused for token owners and account owners unless the tenant allows the address;
        a warning for other users."""
        return tuple(getattr(settings, "TOKENS_ROLE_ADDRESSES", ROLE_ADDRESSES))

    def mail_policy(self) -> Policy:
        return Policy(
            self.MAIL_MAX_ATTEMPTS,
            self.MAIL_RETRY_BASE_SECONDS,
            claim_timeout_seconds=self.MAIL_CLAIM_TIMEOUT_SECONDS,
        )

    def webhook_policy(self) -> Policy:
        return Policy(
            self.MAX_ATTEMPTS,
            self.RETRY_BASE_SECONDS,
            self.RETRY_MAX_SECONDS,
            jitter=True,
            claim_timeout_seconds=self.CLAIM_TIMEOUT_SECONDS,
        )

    # --- webhooks, Slack, Teams ---------------------------------------------------------
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


ROLE_ADDRESSES = (
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
    "helpdesk",
    "servicedesk",
    "desk",
    "noc",
    "alerts",
    "notifications",
    "root",
    "abuse",
    "security",
    "group",
)

app_settings = AppSettings()

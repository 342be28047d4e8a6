"""Optional error reporting to Sentry, with every secret scrubbed before an event leaves.

Nothing is sent unless SENTRY_DSN is set. Events carry no personal data (the SDK's
`data_collection`, successor of send_default_pii, off) and no local variables, and pass
through `scrub_event`, which masks the installation's own secrets (the settings below) and
anything that looks like a credential (integrations.scrub), wherever in the event it
appears: messages, exception values, breadcrumbs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from django.conf import settings

from integrations.scrub import scrub

# A Sentry event or breadcrumb (typed dicts in sentry_sdk): scrubbing keeps its shape.
_Event = TypeVar("_Event", bound=Mapping[str, object])

log = logging.getLogger(__name__)


def known_secrets() -> list[str]:
    """Values from settings that must never leave the installation."""
    values = [settings.SECRET_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    values.append(getattr(settings, "METRICS_TOKEN", "") or "")
    values.append(getattr(settings, "EMAIL_HOST_PASSWORD", "") or "")
    for database in settings.DATABASES.values():
        values.append(database.get("PASSWORD") or "")
    values.append(_url_password(getattr(settings, "CELERY_BROKER_URL", "")))
    return [v for v in values if v and len(v) >= 4]


def _url_password(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(v, secrets) for v in value)
    return value


def scrub_event(event: _Event, hint: dict[str, Any] | None = None) -> _Event:
    """Sentry's before_send (and before_breadcrumb): the event with every secret masked."""
    return scrub_value(event, known_secrets())


def init_sentry() -> bool:
    """Start the Sentry SDK when SENTRY_DSN is set and valid (the system checks name a bad one)."""
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn

    try:
        rate = float(settings.SENTRY_TRACES_SAMPLE_RATE)
    except (TypeError, ValueError):
        rate = 0.0
    try:
        sentry_sdk.init(
            dsn=dsn,
            environment=settings.SENTRY_ENVIRONMENT,
            integrations=[DjangoIntegration(), CeleryIntegration()],
            # No personal data (what send_default_pii=False meant before sentry-sdk deprecated it)
            # and no local variables: a frame may hold a connection's decrypted credentials
            # under a name no scrubber knows.
            data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
            traces_sample_rate=min(max(rate, 0.0), 1.0),
            before_send=scrub_event,
            before_breadcrumb=scrub_event,
        )
    except BadDsn:
        return False
    return True

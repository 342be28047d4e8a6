"""A connection whose credentials changed is re-tested at once, on every stream.

Without this a stream that failed on a wrong password stays red until its next scheduled
run (an hour for the history streams) although the account manager has just fixed it. The
credentials are the base URLs and each section's values and secrets; whatever path saves
them (the admin form, the YAML import, a shell) goes through `VendorConnection.save()`, so
two signal receivers see every change: `remember_credentials` (pre_save) reads what is
stored, `retest_if_changed` (post_save) makes every enabled stream due now.

Idempotent and safe under concurrency: "due now" is one UPDATE of `next_run_at` (a row
already due is left alone), and the dispatcher only claims a schedule whose row lease is
free, so two saves at once, or a save while a run is in flight, never start two runs of
one stream. A run in flight with the old credentials is followed by one more run.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from collectors.models import CollectionSchedule
from integrations.models import VendorConnection

CREDENTIAL_FIELDS = (
    "realtime_base_url",
    "history_base_url",
    "realtime_values",
    "history_values",
    "realtime_secrets",
    "history_secrets",
)


def credentials_of(values: dict[str, object]) -> tuple[object, ...]:
    # Secrets read back as SecretDict: compare as plain dicts.
    return tuple(dict(v) if isinstance(v, dict) else v for v in (values[f] for f in CREDENTIAL_FIELDS))


def retest(connection_id: int, now: datetime | None = None) -> int:
    """Make every enabled stream of the connection due now; how many were moved forward."""
    now = now or timezone.now()
    return CollectionSchedule.objects.filter(
        Q(next_run_at__gt=now), connection_id=connection_id, enabled=True
    ).update(next_run_at=now)


def remember_credentials(
    sender: type,
    instance: VendorConnection,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: object,
) -> None:
    """Before a save: note whether it changes the stored credentials."""
    instance._credentials_changed = False  # type: ignore[attr-defined]
    fields = update_fields
    if raw or instance.pk is None or (fields is not None and not set(fields) & set(CREDENTIAL_FIELDS)):
        return
    stored = VendorConnection.objects.filter(pk=instance.pk).values(*CREDENTIAL_FIELDS).first()
    if stored is None:
        return
    given = {f: getattr(instance, f) for f in CREDENTIAL_FIELDS}
    instance._credentials_changed = credentials_of(stored) != credentials_of(given)  # type: ignore[attr-defined]


def retest_if_changed(
    sender: type, instance: VendorConnection, raw: bool = False, created: bool = False, **kwargs: object
) -> None:
    """After a save that changed the credentials: every stream is tested at the next dispatch."""
    if not raw and not created and getattr(instance, "_credentials_changed", False):
        retest(instance.pk)

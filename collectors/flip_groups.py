"""One mail for the streams of one connection that go down (or recover) together.

A wrong password fails every stream of a connection within a minute; without this the
managers got one mail per stream. The health pass still writes one flip per stream (its
history, and each stream's webhook event); the grouping lives here, in the mail outbox:

- **Hold.** A decided "down" or "recovered" flip is first due HEALTH_GROUP_SECONDS (60)
  after it happened (`held_until`), so the connection's other streams can join it.
- **Group.** The open flips of one connection and kind (decided, not yet sent, not a
  flapping summary), oldest first, form groups: a flip starts a new group unless it
  happened within the window of the current group's first flip. The first flip of a
  group is its **carrier**; only the carrier is mailed, the others ride along.
- **Claim.** The carrier is claimed with the outbox's compare-and-set, then each of the
  others; a flip is in the mail only if this worker's claim hit it, so two workers draining
  at once never mail a flip twice. A worker that sees a flip which is not a carrier skips it.
- **Finish.** The others end as the carrier did: sent (to the same people), failed, or
  released with the carrier to be retried together.
- **Late.** A flip that joins a group whose carrier was already mailed (another stream's
  pass recorded it after the mail left, dated inside the window) is finished as mailed
  with that carrier, not mailed again: groups are built from the connection's recent
  flips, the mailed ones included.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from collectors import health
from collectors.health_conf import conf
from collectors.models import HealthFlip
from notifications.models import RETRYING

GROUPED_KINDS = ("down", "recovered")
SUMMARISED = "summarised"
# How a flip ends after a carrier's try (collectors.outbox.AFTER_TRY): these still belong
# to their group; suppressed, unnotified and summarised flips never were in one.
TRIED = ("sent", "failed", "no_recipients")
# Far enough back that the first flip read starts a group (a group spans one window;
# flapping streams are summarised within the hour, so flips this dense do not last).
LOOKBACK = timedelta(hours=1)


def kind_of(flip: HealthFlip) -> str | None:
    """Which message a flip gets (None: none); webhooks classify flips the same way."""
    return health.alert_kind(flip.old_status, flip.new_status)


def held_until(flip: HealthFlip, now: datetime) -> datetime:
    """When a decided flip is first due: a grouped kind waits out its window."""
    if kind_of(flip) in GROUPED_KINDS:
        return max(now, flip.created + conf.GROUP_WINDOW)
    return now


def group_of(flip: HealthFlip) -> list[HealthFlip]:
    """The group `flip` belongs to, carrier first (`[flip]` for a kind that is not grouped)."""
    kind = kind_of(flip)
    if kind not in GROUPED_KINDS or not conf.GROUP_WINDOW:
        return [flip]
    recent = (
        HealthFlip.objects.filter(
            Q(sent_at=None) | Q(delivery__in=TRIED),
            connection_id=flip.connection_id,
            processed__isnull=False,
            created__gte=flip.created - LOOKBACK,
            created__lte=flip.created + conf.GROUP_WINDOW,
        )
        .exclude(delivery=SUMMARISED)
        .select_related("connection__tenant")
        .order_by("created", "id")
    )
    groups: list[list[HealthFlip]] = []
    for other in recent:
        if kind_of(other) != kind:
            continue
        if groups and other.created < groups[-1][0].created + conf.GROUP_WINDOW:
            groups[-1].append(other)
        else:
            groups.append([other])
    return next((g for g in groups if any(f.pk == flip.pk for f in g)), [flip])


def is_carrier(flip: HealthFlip, group: list[HealthFlip]) -> bool:
    return group[0].pk == flip.pk


def is_late(flip: HealthFlip, group: list[HealthFlip]) -> bool:
    """True when the group's carrier was already tried: `flip` came after its mail left."""
    return not is_carrier(flip, group) and group[0].sent_at is not None


def finish_late(flip: HealthFlip, group: list[HealthFlip], now: datetime) -> None:
    """End a late flip as its carrier ended (unless another worker's claim won it)."""
    if flip.claim(now):
        finish_riders(group[0], [flip])


def claim_riders(group: list[HealthFlip], now: datetime) -> list[HealthFlip]:
    """Claim the carrier's companions (after the carrier itself): those this worker won."""
    return [f for f in group[1:] if f.claim(now)]


def finish_riders(carrier: HealthFlip, riders: list[HealthFlip]) -> None:
    """The riders end as their carrier's try did, or are released with it for the retry."""
    if not riders:
        return
    rows = HealthFlip.objects.filter(pk__in=[f.pk for f in riders])
    if carrier.sent_at is None:
        rows.update(claimed=None, next_attempt_at=carrier.next_attempt_at, delivery=RETRYING)
        return
    rows.update(
        sent_at=carrier.sent_at,
        failed=carrier.failed,
        attempts=carrier.attempts,
        delivered_to=carrier.delivered_to,
        error=carrier.error or f"mailed with flip {carrier.pk}",
        delivery=carrier.delivery,
    )

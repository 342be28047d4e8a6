"""Reminder stages: which stage is due for a number of days left, and a credential's plan.

Pure functions over dates, so the rules are tested without a database. `days_left` is
the expiry date minus today, both as dates in the tenant's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from datetime import timedelta as td

from tokens.conf import EXPIRED, app_settings

Policy = tuple[tuple[str, int], ...]

# Urgency rank: a higher number is more urgent. `expired` outranks every threshold.
EXPIRED_RANK = 10_000


def policy_for(thresholds: Sequence[int] | None = None) -> Policy:
    """The stage policy, from the setting or a tenant's override of the day thresholds.

    A tenant's override keeps the default names where the day count matches (21 is
    still `w3`) and names any other threshold `d<days>`.
    """
    default = app_settings.STAGES
    if not thresholds:
        return tuple(sorted(default, key=lambda s: -s[1]))
    names = {days: name for name, days in default}
    days_set = sorted({int(d) for d in thresholds}, reverse=True)
    return tuple((names.get(d, f"d{d}"), d) for d in days_set)


def validate_thresholds(value: object) -> list[int]:
    """A tenant override must be a list of distinct whole days from 0 to 366."""
    if not isinstance(value, list) or not value:
        raise ValueError("thresholds must be a non-empty list of days, e.g. [90, 60, 30, 21, 14, 7, 1, 0]")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 366:
            raise ValueError(f"{item!r} is not a whole number of days from 0 to 366")
        out.append(item)
    if len(set(out)) != len(out):
        raise ValueError("thresholds must not repeat a day")
    return sorted(out, reverse=True)


def rank(stage: str, policy: Policy) -> int:
    if stage == EXPIRED:
        return EXPIRED_RANK
    for name, days in policy:
        if name == stage:
            return 1000 - days
    return -1  # a stage of an older policy: counts as least urgent


def due_stage(days_left: int, policy: Policy) -> str | None:
    """The most urgent stage whose day has come (None while more days are left than any threshold)."""
    if days_left < 0:
        return EXPIRED
    due = [(name, days) for name, days in policy if days >= days_left]
    if not due:
        return None
    return min(due, key=lambda s: s[1])[0]


def stage_to_send(days_left: int, policy: Policy, sent: Iterable[str]) -> str | None:
    """The stage to send now, or None.

    Only the most urgent due stage is ever sent (a late pass never sends a burst of old
    ones), and never one that is not more urgent than a stage already sent in this cycle.
    """
    stage = due_stage(days_left, policy)
    if stage is None:
        return None
    sent_ranks = [rank(s, policy) for s in sent]
    if sent_ranks and max(sent_ranks) >= rank(stage, policy):
        return None
    return stage


@dataclass(frozen=True)
class PlannedStage:
    stage: str
    day: date  # local date in the tenant's zone
    days_left: int


def plan(expires: date, today: date, policy: Policy, sent: Iterable[str] = ()) -> list[PlannedStage]:
    """Every future reminder of one expiry: the stage sent on each local date from today on.

    Simulates the daily passes, so it agrees with `stage_to_send` by construction,
    including the catch-up stage on the first day of a late-registered token.
    """
    already = set(sent)
    out: list[PlannedStage] = []
    day = today
    last = max(expires + td(days=1), today)  # `expired` falls the day after expiry
    while day <= last:
        left = (expires - day).days
        stage = stage_to_send(left, policy, already)
        if stage is not None:
            out.append(PlannedStage(stage, day, left))
            already.add(stage)
        if stage is None and left > max((d for _, d in policy), default=0):
            # Skip the quiet months in one step.
            day = expires - td(days=max(d for _, d in policy))
            continue
        day += td(days=1)
    return out

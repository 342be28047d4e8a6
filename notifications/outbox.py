"""The one outbox loop: every producer's rows are sent through `drain`, by the same rules.

Design: a producer's record is its own outbox row (`notifications.models.OutboxRow`), so
nothing is copied into a second table; what each producer decides stays in its app, and
it hands this module two things: the due rows and a function that sends one claimed row.
For email that function is `send_mail(row, compose)`: the producer's `compose` says what
to send (a `Mail`: template, context, addresses) or why nobody is told, and the row
records the mailer's report by the rules (`MailRow.record`).

    tokens.outbox.send_pending_alerts     TokenAlert, TokenDigest ─┐
    collectors.outbox.send_pending_flips  HealthFlip              ─┼─ drain → claim → send → record
    notifications.webhooks.send_due       Delivery                ─┤
    notifications.notices                 EndpointNotice          ─┘

`wfm_site.tasks.send_outbox` runs the email senders every 30 s; webhooks run every 15 s.
The rules and the settings are described in docs/notifications.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.utils import timezone

from notifications import mailer
from notifications.models import MailRow, OutboxRow

R = TypeVar("R", bound=OutboxRow)
M = TypeVar("M", bound=MailRow)
T = TypeVar("T")
BATCH = 500


@dataclass
class Mail:
    """What a producer wants sent for one row: one message per address."""

    template: str
    context: dict[str, Any]
    addresses: list[str]
    unsubscribe_urls: dict[str, str] = field(default_factory=dict)


def drain(
    model: type[R],
    rows: Iterable[R],
    send: Callable[[R], T],
    *,
    now: datetime | None = None,
    skip: Callable[[R], bool] | None = None,
) -> list[T]:
    """Release stale claims, then claim and send each of `rows`; what each send returned.

    `rows` is the producer's due queryset (`model.pending(now)`, ordered, sliced), read
    after the release; `skip` may pass over a row without claiming it.
    """
    now = now or timezone.now()
    model.release_stale_claims(now)
    results = []
    for row in rows:
        if (skip and skip(row)) or not row.claim(now):
            continue
        results.append(send(row))
    return results


def send_mail(row: M, compose: Callable[[M], Mail | str]) -> int:
    """Send the mail a claimed row stands for, record the report by the rules: messages sent.

    `compose` returns the `Mail`, or a sentence saying why nobody is told (the row is
    then finished without recipients). Addresses that already got it are skipped.
    """
    mail = compose(row)
    if isinstance(mail, str):
        row.finish_without_recipients(mail)
        return 0
    todo = [a for a in mail.addresses if a not in row.delivered_to]
    report = mailer.send_to(mail.template, mail.context, todo, unsubscribe_url_for=mail.unsubscribe_urls.get)
    row.record(report)
    return len(report.sent)


def mail_rows(
    model: type[M], rows: Iterable[M], compose: Callable[[M], Mail | str], now: datetime | None = None
) -> int:
    """Drain email rows; returns how many messages went out."""
    return sum(drain(model, rows, lambda row: send_mail(row, compose), now=now))

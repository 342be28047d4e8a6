"""The one outbox: the fields every row that is sent shares, and the rules of its delivery.

A producer's record of what happened is also its outbox row: a token reminder stage
(`tokens.TokenAlert`), the owners' daily list (`tokens.TokenDigest`), a health flip
(`collectors.HealthFlip`) and a webhook delivery (`Delivery`) each inherit `OutboxRow`, so
the producer keeps deciding *what* to say while one set of rules decides *when* it is sent:

- **claim** with a compare-and-set, `filter(pk=…, sent_at=None, claimed=None).update(claimed=now)`:
  only the worker whose update hit the row sends it (any database, no locks);
- a try ends **sent**; or **retrying** after a transient failure: the claim is released and
  the row is due again after base · 2^(tries-1) seconds (or after what the receiver asked
  for), on a later tick, until the policy's max attempts; or **failed**: a permanent failure
  is given up at once, a transient one once the attempts are spent;
- a claim older than the policy's claim timeout (a worker died mid-send) is **released**,
  so the row is sent again: at-least-once.

The numbers come from a `notifications.conf.Policy`: one for email (`NOTIFY_MAIL_*`), one
for webhooks (`WEBHOOKS_*`, with jitter). `MailRow` adds what an email needs (who already
has it, the error) and `notifications.outbox` is the loop every producer's sender runs.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifications.conf import Policy, app_settings

SENT, RETRYING, FAILED = "sent", "retrying", "failed"


class OutboxRow(models.Model):
    claimed = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When delivery finished.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)

    class Meta:
        abstract = True

    # --- hooks a producer may override ---------------------------------------------------
    @classmethod
    def policy(cls) -> Policy:
        return app_settings.mail_policy()

    @classmethod
    def queue(cls) -> models.QuerySet[Any]:
        """The rows the outbox may send (a producer may keep some back, e.g. undecided)."""
        return cls.objects.all()  # type: ignore[attr-defined]

    def max_attempts(self) -> int:
        return self.policy().max_attempts

    # --- the rules -------------------------------------------------------------------------
    @classmethod
    def pending(cls, now: datetime | None = None) -> models.QuerySet[Any]:
        now = now or timezone.now()
        due = Q(next_attempt_at__lte=now)
        if cls._meta.get_field("next_attempt_at").null:  # type: ignore[attr-defined]
            due |= Q(next_attempt_at=None)  # never retried: due at once
        return cls.queue().filter(due, sent_at=None, claimed=None)

    @classmethod
    def release_stale_claims(cls, now: datetime | None = None) -> int:
        """A worker that died mid-send leaves a claim behind; free it after the claim timeout."""
        stale = (now or timezone.now()) - td(seconds=cls.policy().claim_timeout_seconds)
        return cls.queue().filter(sent_at=None, claimed__lt=stale).update(claimed=None)

    def claim(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        won = type(self).objects.filter(pk=self.pk, sent_at=None, claimed=None).update(claimed=now)  # type: ignore[attr-defined]
        if won:
            self.claimed = now
        return bool(won)

    def settle(self, now: datetime, *, ok: bool, transient: bool, wait: float | None = None) -> str:
        """Apply the rules to one finished try (fields only, the caller saves): the step taken."""
        self.attempts += 1
        if ok:
            self.sent_at, self.failed = now, False
            return SENT
        if transient and self.attempts < self.max_attempts():
            self.claimed = None
            self.next_attempt_at = now + td(seconds=self.policy().delay(self.attempts, wait))
            return RETRYING
        self.sent_at, self.failed = now, True
        return FAILED

    @property
    def status(self) -> str:
        if self.sent_at is None:
            return RETRYING if self.attempts else ("sending" if self.claimed else "pending")
        return FAILED if self.failed else SENT


class MailRow(OutboxRow):
    """An outbox row sent as email: who already has it (a retry skips them) and what failed."""

    delivered_to = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    RECORDED = ("delivered_to", "attempts", "error", "claimed", "next_attempt_at", "sent_at", "failed")

    class Meta:
        abstract = True

    def record(self, report: Any) -> str:
        """Store a `mailer.Report` by the rules: finished, or released for a retry with backoff."""
        self.delivered_to = sorted({*self.delivered_to, *report.sent})
        problems = [f"{addr}: {why}" for addr, why in {**report.permanent, **report.transient}.items()]
        self.error = "; ".join(problems)[:2000]
        step = self.settle(timezone.now(), ok=report.ok, transient=bool(report.transient))
        if step == FAILED and report.transient:
            self.error = f"gave up after {self.attempts} attempts: {self.error}"[:2000]
        self.save(update_fields=self.RECORDED)
        return step

    def finish_without_recipients(self, reason: str) -> None:
        self.sent_at = timezone.now()
        self.error = reason
        self.save(update_fields=["sent_at", "error"])

    @property
    def status(self) -> str:
        if self.sent_at is not None and not self.failed:
            return SENT if self.delivered_to else "nobody to tell"
        return super().status

"""Templated email: text and HTML from templates, unsubscribe headers, error classes.

Used by every sender of email (the outbox, verification links, the endpoint-disabled notice):

    report = send_to("token-alert", context, ["a@example.com"], unsubscribe_url_for=fn)

Templates live in `templates/emails/<name>-subject.txt`, `<name>-body.txt` and
`<name>-body.html`. The caller passes only addresses it has checked are verified
(`notifications.recipients`). Nothing here sleeps unless asked to retry in-process.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.template.loader import render_to_string

from integrations.scrub import scrub

log = logging.getLogger(__name__)


class TransientMailError(Exception):
    """Worth trying again later (4xx replies, a dropped connection, a server not answering)."""


class PermanentMailError(Exception):
    """Trying again will not help (5xx replies, an invalid address)."""


@dataclass
class Report:
    sent: list[str] = field(default_factory=list)
    transient: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.transient and not self.permanent


def render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject (one line), text body and HTML body of a message."""
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}-subject.txt", ctx).split())
    text = render_to_string(f"emails/{template}-body.txt", ctx)
    html = render_to_string(f"emails/{template}-body.html", ctx)
    return subject, text, html


def classify(exc: BaseException) -> Exception:
    """Map an SMTP or socket error to a transient or permanent one, with a short reason."""
    if isinstance(exc, TransientMailError | PermanentMailError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        reason = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
        if codes and all(500 <= c < 600 for c in codes):
            return PermanentMailError(f"recipient refused: {reason}")
        return TransientMailError(f"recipient deferred: {reason}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Our own configuration, not the message: keep retrying until someone fixes it.
        return TransientMailError(f"SMTP authentication failed ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        text = f"{exc.smtp_code} {msg}"
        return PermanentMailError(text) if 500 <= exc.smtp_code < 600 else TransientMailError(text)
    if isinstance(exc, smtplib.SMTPException | socket.timeout | ConnectionError | OSError):
        return TransientMailError(f"{type(exc).__name__}: {exc}")
    return PermanentMailError(f"{type(exc).__name__}: {exc}")


def build(
    template: str, context: dict[str, Any], to: str, unsubscribe_url: str | None = None
) -> EmailMultiAlternatives:
    subject, text, html = render(template, {**context, "recipient": to, "unsubscribe_url": unsubscribe_url})
    headers = {"Auto-Submitted": "auto-generated"}
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    msg.attach_alternative(html, "text/html")
    return msg


def send_one(msg: EmailMultiAlternatives, connection: Any = None) -> None:
    """Send one message; raises TransientMailError or PermanentMailError."""
    try:
        validate_email(msg.to[0])
    except ValidationError:
        raise PermanentMailError(f"invalid address {msg.to[0]!r}") from None
    try:
        msg.send(fail_silently=False) if connection is None else connection.send_messages([msg])
    except Exception as exc:
        raise classify(exc) from exc


def send_to(
    template: str,
    context: dict[str, Any],
    addresses: Iterable[str],
    *,
    unsubscribe_url_for: Callable[[str], str | None] | None = None,
    attempts: int = 1,
    backoff_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Send one templated message to each address (one message per address, never a shared To).

    Transient failures are retried in-process `attempts` times with doubling delays;
    the outbox passes attempts=1 and retries later from the row instead.
    """
    report = Report()
    connection = get_connection()
    addresses = list(dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()))
    try:
        for address in addresses:
            url = unsubscribe_url_for(address) if unsubscribe_url_for else None
            try:
                msg = build(template, context, address, url)
            except PermanentMailError as exc:
                report.permanent[address] = str(exc)
                continue
            for attempt in range(1, max(attempts, 1) + 1):
                try:
                    send_one(msg, connection)
                except TransientMailError as exc:
                    if attempt >= attempts:
                        report.transient[address] = scrub(str(exc))
                        break
                    sleep(backoff_seconds * 2 ** (attempt - 1))
                    # A dropped connection is not reused.
                    connection.close()
                except PermanentMailError as exc:
                    report.permanent[address] = scrub(str(exc))
                    break
                else:
                    report.sent.append(address)
                    break
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not hide the report
            log.debug("closing the mail connection failed", exc_info=True)
    for address, why in {**report.transient, **report.permanent}.items():
        log.warning("mail %s to %s failed: %s", template, address, why)
    return report

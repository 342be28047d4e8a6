"""Hooks other apps connect to, so that this app never imports them.

`endpoint_disabled(sender=Endpoint, endpoint=…, reason=…)` is sent once when the outbox
disables an endpoint that keeps failing. The tokens app connects the email to the tenant's
owners and managers (tokens/signals.py): the mailer lives there until it moves here.
"""

from __future__ import annotations

from django.dispatch import Signal

endpoint_disabled = Signal()

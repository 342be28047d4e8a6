"""Hooks other apps connect to, so that this app never imports them.

`endpoint_disabled(sender=Endpoint, endpoint=…, reason=…)` is sent once when the outbox
disables an endpoint that keeps failing; `notifications.receivers` mails the tenant's owners
and managers, and other apps may connect too.
"""

from __future__ import annotations

from django.dispatch import Signal

endpoint_disabled = Signal()

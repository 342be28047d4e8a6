from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def send_webhooks() -> dict[str, int]:
    """Send due webhook, Slack and Teams deliveries (each claimed with a CAS update)."""
    from notifications.webhooks import send_due

    return send_due()

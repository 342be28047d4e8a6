from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def send_outbox() -> dict[str, int]:
    """Send every unsent health flip and token alert (each claimed with a CAS update)."""
    from collectors.outbox import send_pending_flips
    from tokens.outbox import send_pending_alerts

    return {"flips": send_pending_flips(), "alerts": send_pending_alerts()}

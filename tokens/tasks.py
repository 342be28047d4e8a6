from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def token_reminders() -> int:
    """Hourly: write due reminder stages as TokenAlert rows, then send them.

    Tenants whose local morning has not come yet are left for a later tick.
    """
    from tokens.outbox import send_pending_alerts
    from tokens.reminders import run_pass

    result = run_pass()
    send_pending_alerts()
    return result.written

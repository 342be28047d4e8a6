from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def token_reminders() -> int:
    """Hourly: write due reminder stages as TokenAlert rows. (Filled by the tokens work.)"""
    return 0

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def dispatch_due() -> int:
    """Every 5 s: claim due schedules and enqueue their runs. (Filled by the engine work.)"""
    return 0


@shared_task(ignore_result=True)
def scan_drops() -> int:
    """Every 60 s: find complete new files in each TCN drop folder. (Filled by the TCN work.)"""
    return 0


@shared_task(ignore_result=True)
def evaluate_health() -> int:
    """Every 60 s: write HealthFlip rows for status transitions. (Filled by the health work.)"""
    return 0

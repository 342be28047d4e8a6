from __future__ import annotations


def send_pending_flips() -> int:
    """Send unsent HealthFlip rows; returns how many were sent. (Filled by the health work.)"""
    return 0

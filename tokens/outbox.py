from __future__ import annotations


def send_pending_alerts() -> int:
    """Send unsent TokenAlert rows; returns how many were sent. (Filled by the tokens work.)"""
    return 0

"""NCC / Thrio `agent-status` labels to neutral states (seeds 002 and 003).

The platform sends labels, not codes, and customers add their own states; those are kept
raw and mapped to `other` unless the connection's `state_map` names them.
"""

from __future__ import annotations

# Keyed by the label folded with `fold()`, so "Wrap Up", "wrapup" and "WRAPUP" agree.
STATES: dict[str, str] = {
    "available": "available",
    "busy": "busy",
    "working": "busy",
    "wrapup": "wrap_up",
    "loggedout": "logged_out",
    # Logged in but not yet available: the seeds list it beside Available; WFM counts it as
    # available unless the connection maps it otherwise.
    "loggedin": "available",
    "noanswer": "other",
}


def fold(label: str) -> str:
    return "".join(label.split()).replace("-", "").replace("_", "").casefold()


def neutral_state(label: str, overrides: dict[str, str]) -> str:
    """The connection's `state_map` wins (exact label first, then folded)."""
    if label in overrides:
        return overrides[label]
    folded = {fold(k): v for k, v in overrides.items()}
    key = fold(label)
    return folded.get(key) or STATES.get(key, "other")

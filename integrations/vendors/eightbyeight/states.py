"""8x8 rtstats `agent-status` codes to neutral states (seed 001; the Agent Status API uses
a different table and is not used here)."""

from __future__ import annotations

# code: (neutral state, 8x8's label)
STATES: dict[int, tuple[str, str]] = {
    0: ("available", "available"),
    1: ("offered", "transaction offered"),
    2: ("busy", "busy"),
    3: ("wrap_up", "post processing"),
    4: ("break", "on break"),
    5: ("work_offline", "work offline"),
    9: ("logged_out", "logged out"),
}


def neutral_state(code: int, overrides: dict[str, str]) -> tuple[str, str]:
    """(neutral state, label) of a code; the connection's `state_map` (keyed by the code as
    text, e.g. {"7": "break"}) wins, and unknown codes are `other`, never an error."""
    state, label = STATES.get(code, ("other", ""))
    return overrides.get(str(code), state), label

"""TCN's agent status groups (platform API guide, section 47) as neutral states."""

from __future__ import annotations

from collections.abc import Mapping

from integrations.vendors.records import NEUTRAL_STATES

# resultDetail key -> (neutral state, label). An agent in no group is logged out.
GROUPS: dict[str, tuple[str, str]] = {
    "readyAgents": ("available", "Ready"),
    "onCallAgents": ("busy", "On call"),
    "wrapUpAgents": ("wrap_up", "Wrap-up"),
    "pausedAgents": ("break", "Paused"),
    "otherStatusAgents": ("other", "Other status"),
}
TOTAL_KEY = "totalLoggedInAgents"


def neutral_state(group: str, label: str = "", state_map: Mapping[str, str] | None = None) -> str:
    """The neutral state of an agent in `group`, with its status label if TCN gave one.

    The connection's state map may name a label (e.g. a pause code "Lunch") or a group
    key ("otherStatusAgents"); the label wins, as it is the more specific.
    """
    state_map = state_map or {}
    for key in (label, group):
        if key and state_map.get(key) in NEUTRAL_STATES:
            return state_map[key]
    return GROUPS[group][0] if group in GROUPS else "other"

"""The time zone names TCN's platform API guide lists (Appendix B), old aliases included.

Several are backward-compatible aliases of IANA zones, and the tz database has dropped one
(`Canada/East-Saskatchewan`, removed in tzdata 2017c), so Python's zoneinfo may not know it.
A connection stores the name as typed when zoneinfo knows it, else its canonical zone.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

# Appendix B, in the guide's order.
GUIDE_ZONES = (
    "America/Puerto_Rico",
    "America/New_York",
    "America/Indianapolis",
    "America/Chicago",
    "America/Phoenix",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Canada/Newfoundland",
    "Canada/Atlantic",
    "Canada/Central",
    "Canada/East-Saskatchewan",
    "Canada/Eastern",
    "Canada/Mountain",
    "Canada/Pacific",
    "Canada/Saskatchewan",
    "Canada/Yukon",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Berlin",
    "Europe/Bucharest",
    "America/Mexico_City",
    "Mexico/BajaSur",
    "Mexico/BajaNorte",
    "Brazil/Acre",
    "Brazil/West",
    "Brazil/East",
    "Brazil/DeNoronha",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Melbourne",
    "Australia/Perth",
    "Pacific/Auckland",
    "Pacific/Chatham",
)

# Each alias of the list to the zone the tz database's `backward` file links it to.
ALIASES = {
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "Canada/Newfoundland": "America/St_Johns",
    "Canada/Atlantic": "America/Halifax",
    "Canada/Central": "America/Winnipeg",
    "Canada/East-Saskatchewan": "America/Regina",
    "Canada/Eastern": "America/Toronto",
    "Canada/Mountain": "America/Edmonton",
    "Canada/Pacific": "America/Vancouver",
    "Canada/Saskatchewan": "America/Regina",
    "Canada/Yukon": "America/Whitehorse",
    "Mexico/BajaSur": "America/Mazatlan",
    "Mexico/BajaNorte": "America/Tijuana",
    "Brazil/Acre": "America/Rio_Branco",
    "Brazil/West": "America/Manaus",
    "Brazil/East": "America/Sao_Paulo",
    "Brazil/DeNoronha": "America/Noronha",
}


@cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def canonical(name: str) -> str:
    """`name` if zoneinfo knows it, else the canonical zone of a listed alias, else `name`
    unchanged (for the time zone validator to refuse)."""
    if name in _known():
        return name
    return ALIASES.get(name, name)

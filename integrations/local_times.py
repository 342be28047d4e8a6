"""Times as people read them: in their tenant's zone, with the zone named.

Everything is stored in UTC; an account manager in Chicago reads "2026-11-30 10:15 CST
(America/Chicago)", never a bare UTC time they must convert, nor a local time that does not
say which zone it is in.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.html import format_html

# Django's date-format letters: "T" is the zone's name (see NamedZone), so one format serves
# the admin's own rendering (wfm_site/formats) and the columns formatted here.
DATETIME_FORMAT = "Y-m-d H:i T"


class NamedZone(ZoneInfo):
    """A zone whose abbreviation names the zone as well: "CST (America/Chicago)".

    Activated on an admin page of one tenant, every time Django renders there (read-only
    fields, inlines, the history) says which zone it is in, without a change to each field.
    """

    def tzname(self, dt: datetime | None) -> str | None:
        short = super().tzname(dt)
        return short if short == self.key else f"{short} ({self.key})"


def local_time(value: datetime | None, zone: str) -> str | None:
    """`value` in `zone`, named: "2026-11-30 10:15 CST (America/Chicago)"; None for None."""
    if value is None:
        return None
    return dateformat.format(value.astimezone(NamedZone(zone)), DATETIME_FORMAT)


def local_time_html(value: datetime | None, zone: str) -> str | None:
    """The same for a list's narrow column: the time unbroken, then its zone in small print."""
    if value is None:
        return None
    local = value.astimezone(NamedZone(zone))
    return format_html(
        '<span class="local-time">{}</span> <small class="local-zone">{}</small>',
        dateformat.format(local, "Y-m-d H:i"),
        local.tzname(),
    )

"""Nextiva Contact Center and Thrio: one platform, two brands, two registered vendors."""

from __future__ import annotations

from integrations.vendors.base import Field, Vendor


class Nextiva(Vendor):
    key = "nextiva"
    label = "Nextiva Contact Center"
    realtime_fields = (
        Field("username", "Username"),
        Field("password", "Password", secret=True),
    )
    history_fields = (
        Field("username", "UserName", required=False),
        Field("password", "Password", secret=True, required=False),
    )
    default_interval_seconds = 30
    default_base_url = "https://login.thrio.com/"
    adapter_path = "integrations.vendors.ncc.adapter.NCCAdapter"


class Thrio(Nextiva):
    key = "thrio"
    label = "Thrio"
    # Thrio's real-time page asks for an Account where Nextiva's asks for a Username.
    realtime_fields = (
        Field("account", "Account"),
        Field("password", "Password", secret=True),
    )

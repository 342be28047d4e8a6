from __future__ import annotations

from integrations.vendors.base import Field, Vendor


class EightByEight(Vendor):
    key = "8x8"
    label = "8x8"
    realtime_fields = (
        Field("tenant", "Tenant", help_text="The 8x8 tenant name (HTTP Basic user name)."),
        Field("token", "Token", secret=True, help_text="The data request token from 8x8."),
    )
    history_fields = (
        Field("tenant", "Tenant", required=False),
        Field("token", "Token", secret=True, required=False),
    )
    # 8x8 refreshes real-time statistics every 10 s: polling faster gains nothing.
    default_interval_seconds = 10
    default_base_url = "https://vcc-na10b.8x8.com/api/"
    adapter_path = "integrations.vendors.eightbyeight.adapter.EightByEightAdapter"

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
    # Interaction handle times fill in up to ~1 h after acceptance; the adapter leaves out
    # intervals with unsettled records younger than its LAG_WINDOW (3 h).
    volume_settle_seconds = 3 * 3600
    default_base_url = "https://vcc-na10b.8x8.com/api/"
    adapter_path = "integrations.vendors.eightbyeight.adapter.EightByEightAdapter"
    sandbox_path = "integrations.sandbox.eightbyeight.SANDBOX"

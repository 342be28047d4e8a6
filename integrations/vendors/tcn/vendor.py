from __future__ import annotations

from integrations.vendors.base import (
    STREAM_AGENT_STATES,
    STREAM_CONFIG,
    STREAM_FILE_DROP,
    Field,
    Vendor,
)


class TCN(Vendor):
    key = "tcn"
    label = "TCN"
    realtime_fields = (
        Field(
            "access_token",
            "Access token",
            secret=True,
            help_text="Created for the service-account user in TCN (valid one year).",
        ),
        Field(
            "client_sid",
            "Client SID",
            required=False,
            help_text="Sent as clientSid where the API asks for it.",
        ),
    )
    history_fields = (
        Field(
            "access_token",
            "Access token",
            secret=True,
            required=False,
            help_text="Leave blank to use the real-time token.",
        ),
        Field(
            "drop_folder",
            "Path to files",
            help_text="Folder TCN's 15-minute call-volume file is sent to by FTP.",
        ),
    )
    # The seed sets TCN's transaction collection interval to 15 minutes.
    default_interval_seconds = 900
    # The platform API guide gives times in US Pacific time.
    default_time_zone = "America/Los_Angeles"
    default_base_url = "https://api.tcn3.com/backoffice/"
    streams = (STREAM_AGENT_STATES, STREAM_CONFIG, STREAM_FILE_DROP)
    adapter_path = "integrations.vendors.tcn.adapter.TCNAdapter"

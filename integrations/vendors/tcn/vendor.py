from __future__ import annotations

import re
from pathlib import Path

from integrations.vendors.base import (
    FILE,
    HISTORY,
    POLL,
    STREAM_AGENT_STATES,
    STREAM_CONFIG,
    STREAM_VOLUME,
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
            required=False,
            staff_only=True,
            help_text="Leave blank for the connection's own folder "
            "DROP_ROOT/<tenant-slug>/<connection-name>/. An explicit path must be a real folder "
            "inside DROP_ROOT/<tenant-slug>/ that no other "
            "connection's folder is, contains or lies in (relative paths are taken from DROP_ROOT).",
        ),
        Field(
            "ftp_username",
            "FTP login",
            required=False,
            help_text="Login for the embedded FTP receiver (default: tenant-slug.connection-name); "
            "unique across all connections.",
        ),
        Field(
            "ftp_password",
            "FTP password",
            secret=True,
            required=False,
            help_text="Set it to give TCN a login on the embedded FTP receiver, jailed to the drop folder.",
        ),
    )
    # The seed sets TCN's transaction collection interval to 15 minutes; TCN's own
    # configuration page gives it in minutes.
    default_interval_seconds = 900
    interval_unit_seconds = 60
    # The platform API guide gives times in US Pacific time.
    default_time_zone = "America/Los_Angeles"
    default_base_url = "https://api.tcn3.com/backoffice/"
    # Call volume arrives as a 15-minute file (folder or FTP), never through the API, so no
    # history is requested from TCN and `max_request_days` (the default) is never used.
    supplies = {STREAM_AGENT_STATES: POLL, STREAM_CONFIG: POLL, STREAM_VOLUME: FILE}
    adapter_path = "integrations.vendors.tcn.adapter.TCNAdapter"
    file_reader_path = "integrations.vendors.tcn.reader.TCNFileReader"
    sandbox_path = "integrations.sandbox.tcn.SANDBOX"
    # Access names (platform API guide, section 2), joined to the base URL; override per
    # connection in `options` if TCN gives the customer other names.
    default_options = {
        "agent_list_path": "backoffice/RemoteAgentList",
        "agent_skills_path": "backoffice/RemoteAgentSkillsList",
        "agent_status_path": "backoffice/AgentSummary",
        "file_layout": "call_detail",
    }

    @classmethod
    def canonical_time_zone(cls, name: str) -> str:
        from integrations.vendors.tcn.zones import canonical

        return canonical(name)

    @classmethod
    def validate_values(cls, section: str, values: dict[str, str]) -> dict[str, str]:
        # The drop folder's rules need the other connections: VendorConnection checks them.
        errors: dict[str, str] = {}
        if section != HISTORY:
            return errors
        login = values.get("ftp_username", "")
        if login and not _LOGIN.match(login):
            errors["ftp_username"] = "Use letters, digits, dots, hyphens and underscores (no spaces)."
        return errors


_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}\Z")


def resolve_drop_folder(folder: str) -> Path:
    """The absolute drop folder; ValueError when it is not strictly under DROP_ROOT.

    Symlinks are resolved first, so a link pointing out of the root is refused too.
    """
    from integrations.drop_folders import drop_root

    root = drop_root()
    path = (root / Path(folder).expanduser()).resolve()
    if path == root or root not in path.parents:
        raise ValueError(f"The drop folder must lie inside DROP_ROOT ({root}); {folder!r} does not.")
    return path

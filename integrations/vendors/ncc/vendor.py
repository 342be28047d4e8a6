"""Nextiva Contact Center and Thrio: one platform, two brands, two registered vendors."""

from __future__ import annotations

from typing import ClassVar

from integrations.vendors.base import HISTORY, REALTIME, Field, Vendor

# The WFM integration endpoints are not public (seeds 002/003 name only their fields), so
# their paths are per-connection options; these defaults are what the sandbox serves.
DEFAULT_AGENT_STATES_PATH = "/wfm/api/agentstates"
DEFAULT_VOLUME_PATH = "/wfm/api/queueintervals"


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
    default_options: ClassVar[dict[str, object]] = {
        "agent_states_path": DEFAULT_AGENT_STATES_PATH,
        "volume_path": DEFAULT_VOLUME_PATH,
    }
    # The integration specification names agent-id, agent-status, sumHandleTime, enteredCount
    # and abandonedCount; the other names and the lists' keys are what the sandbox serves.
    # A connection renames any of them in `options["field_map"]`.
    default_field_map: ClassVar[dict[str, str]] = {
        "agent_list": "agents",
        "agent_id": "agent-id",
        "agent_state": "agent-status",
        "state_since": "timestamp",
        "interval_list": "intervals",
        "queue_id": "queueId",
        "queue_name": "queueName",
        "interval_start": "intervalStart",
        "entered": "enteredCount",
        "abandoned": "abandonedCount",
        "handle_seconds": "sumHandleTime",
    }
    # The WFM interval endpoint answers at most 7 days per request [INF: the API is private
    # (seeds 002/003 give no limit); the sandbox refuses longer ranges with HTTP 400, as a
    # one-year Nextiva window was refused in the field].
    max_request_days = 7
    adapter_path = "integrations.vendors.ncc.adapter.NCCAdapter"
    sandbox_path = "integrations.sandbox.ncc.NEXTIVA"

    # The field holding the login name, per section, in order of preference.
    login_fields: ClassVar[dict[str, tuple[str, ...]]] = {REALTIME: ("username",), HISTORY: ("username",)}

    @classmethod
    def login_name(cls, section: str, values: dict[str, str]) -> str:
        for name in cls.login_fields[section]:
            if values.get(name):
                return values[name]
        return ""


class Thrio(Nextiva):
    key = "thrio"
    label = "Thrio"
    sandbox_path = "integrations.sandbox.ncc.THRIO"
    # Thrio's real-time page asks for an Account where Nextiva's asks for a Username; its
    # history page asks for a UserName, which falls back to the Account when left blank.
    realtime_fields = (
        Field("account", "Account"),
        Field("password", "Password", secret=True),
    )
    login_fields: ClassVar[dict[str, tuple[str, ...]]] = {
        REALTIME: ("account",),
        HISTORY: ("username", "account"),
    }

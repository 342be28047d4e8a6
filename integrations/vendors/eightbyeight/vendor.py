from __future__ import annotations

from typing import ClassVar

from integrations.vendors.base import Field, Vendor
from integrations.vendors.eightbyeight import fields as f


class EightByEight(Vendor):
    key = "8x8"
    label = "8x8"
    realtime_fields = (
        # Labelled apart from the form's own "Tenant" (the Switchboard customer the connection
        # belongs to): this one is 8x8's name for the customer's account.
        Field(
            "tenant",
            "8x8 tenant name",
            help_text="The customer's tenant name in 8x8 (the HTTP Basic user name of its API), "
            "not the Switchboard tenant chosen above.",
        ),
        Field("token", "Token", secret=True, help_text="The data request token from 8x8."),
    )
    history_fields = (
        Field(
            "tenant",
            "8x8 tenant name",
            required=False,
            help_text="8x8's tenant name for history requests, if it differs from the real-time one.",
        ),
        Field("token", "Token", secret=True, required=False),
    )
    # 8x8 refreshes real-time statistics every 10 s: polling faster gains nothing.
    default_interval_seconds = 10
    # Interaction handle times fill in up to ~1 h after acceptance; the adapter leaves out
    # intervals with unsettled records younger than its LAG_WINDOW (3 h).
    volume_settle_seconds = 3 * 3600
    default_base_url = "https://vcc-na10b.8x8.com/api/"
    # The Statistics Reporting API's `d` range is taken to span at most 31 calendar days
    # [INF: no public page states a limit; the sandbox enforces this one]. The adapter asks
    # for a day more on each side of the UTC window (the tenant's zone is unknown), and a
    # window that does not start at midnight touches one more date: 28 days stay inside 31.
    max_request_days = 28
    # A connection renames any of these in `options["field_map"]` (see fields.py for which
    # names are documented and which inferred).
    default_field_map: ClassVar[dict[str, str]] = {
        "agent_list": f.AGENT_LIST,
        "agent_id": f.AGENT_ID,
        "agent_name": f.AGENT_NAME,
        "agent_group": f.AGENT_GROUP,
        "agent_state": f.AGENT_STATUS,
        "time_in_state": f.AGENT_TIME_IN_STATUS,
        "queue_list": f.QUEUE_LIST,
        "queue_id": f.QUEUE_ID,
        "queue_name": f.QUEUE_NAME,
        "statistics": f.STATISTICS,
        "statistic_list": f.STATISTIC,
        "call_id": f.TRANSACTION_ID,
        "entered_at": f.TIME_ENTERED,
        "abandoned": f.ABANDONED,
        "process_seconds": f.PROCESS_TIME,
        "post_process_seconds": f.POST_PROCESS,
    }
    adapter_path = "integrations.vendors.eightbyeight.adapter.EightByEightAdapter"
    sandbox_path = "integrations.sandbox.eightbyeight.SANDBOX"

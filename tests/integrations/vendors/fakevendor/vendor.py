from __future__ import annotations

from integrations.vendors.base import Field, Vendor


class Fake(Vendor):
    key = "fake"
    label = "Fakeline"
    realtime_fields = (Field("token", "API token", secret=True),)
    history_fields = (Field("token", "API token", secret=True, required=False),)
    default_interval_seconds = 30
    default_base_url = "https://api.fakeline.example/v1/"
    # `supplies` keeps the default: intervals, agent states and configuration by REST poll.
    adapter_path = "tests.integrations.vendors.fakevendor.adapter.FakeAdapter"
    sandbox_path = "tests.integrations.vendors.fakevendor.sandbox.SANDBOX"

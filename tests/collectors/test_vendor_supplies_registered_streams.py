"""The system check that ties what a vendor supplies to the stream registry."""

from __future__ import annotations

from unittest import mock

from collectors.checks import check_supplied_streams
from integrations.vendors.base import POLL
from integrations.vendors.eightbyeight.vendor import EightByEight


def test_the_built_in_vendors_supply_only_registered_streams():
    assert check_supplied_streams() == []


def test_a_vendor_supplying_an_unregistered_stream_is_an_error_naming_both(settings):
    with mock.patch.object(EightByEight, "supplies", {**EightByEight.supplies, "queue_stats": POLL}):
        errors = check_supplied_streams()
        assert [e.id for e in errors] == ["collectors.E010"]
        assert "'8x8'" in errors[0].msg and "'queue_stats'" in errors[0].msg
        settings.COLLECT_EXTRA_STREAMS = {"queue_stats": "tests.collectors.streams.fake_stream.STREAM"}
        assert check_supplied_streams() == []

"""The stream registry: each declaration is where its key says, vendors supply only declared
streams, and every dispatched stream has an adapter method, a collect hook and a queue."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from collectors.streams import STREAMS, all_streams, dispatched_streams, find_stream, get_stream
from integrations.vendors import VENDORS, get_vendor
from integrations.vendors.base import Adapter
from wfm_site.celery import app


@pytest.mark.parametrize("key", list(STREAMS))
def test_each_declaration_carries_the_key_it_is_registered_under(key):
    assert get_stream(key).key == key


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_every_stream_a_vendor_supplies_is_declared(vendor):
    for key in get_vendor(vendor).streams:
        assert find_stream(key) is not None, f"{vendor} supplies {key!r}, which no stream module declares"


@pytest.mark.parametrize("key", [k for k in STREAMS if get_stream(k).dispatched])
def test_a_dispatched_stream_names_an_adapter_method_a_collect_hook_and_a_queue(key):
    stream = get_stream(key)
    assert callable(getattr(Adapter, stream.fetch))
    assert callable(import_string(stream.collect))
    assert stream.queue in {q.name for q in app.conf.task_queues}


def test_the_file_drop_is_fed_by_its_transport_not_the_dispatcher():
    drop = get_stream("file_drop")
    assert not drop.dispatched
    assert drop.key not in dispatched_streams()
    assert callable(import_string(drop.transport))


def test_an_unknown_key_is_no_stream():
    assert find_stream("calls") is None
    with pytest.raises(KeyError, match="unknown stream 'calls'"):
        get_stream("calls")


def test_streams_added_in_settings_join_the_registry(settings):
    settings.COLLECT_EXTRA_STREAMS = {"queue_stats": "tests.collectors.streams.fake_stream.STREAM"}
    assert [s.key for s in all_streams()][-1] == "queue_stats"
    assert "queue_stats" in dispatched_streams()

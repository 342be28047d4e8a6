"""`collect CONN volume --start --end`: a long window goes to the vendor in chunks no longer
than its maximum range, oldest first, with a progress bar only on a terminal without --json."""

from __future__ import annotations

import json
from datetime import timedelta as td
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from collectors.models import CollectionRun, Cursor, IntervalVolume
from tests.collectors.enginekit import QUEUES, T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=7)
START = T0 - td(days=60)


class Terminal(StringIO):
    """A stream that says it is a terminal, as a shell's stderr does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def collect(*args, stderr=None):
    out = StringIO()
    err = stderr if stderr is not None else StringIO()
    call_command("collect", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def window_args():
    return ("acme/eight", "volume", "--start", START.isoformat(), "--end", T0.isoformat())


def test_a_sixty_day_window_goes_to_the_vendor_in_requests_no_longer_than_its_maximum(eight, fake):
    assert eight.vendor_class.max_request_days == 28
    collect(*window_args(), "--json")
    asked = [(start, end) for kind, start, end in fake.calls if kind == "volume"]
    assert asked == [
        (START, START + td(days=28)),
        (START + td(days=28), START + td(days=56)),
        (START + td(days=56), T0),
    ]
    assert IntervalVolume.objects.count() == 60 * 96 * len(QUEUES)
    run = CollectionRun.objects.get()
    assert (run.status, run.window_start, run.window_end) == ("ok", START, T0)
    assert run.rows_created == 60 * 96 * len(QUEUES)
    assert "in 3 request(s)" in run.notes


def test_the_connection_may_ask_for_shorter_requests_than_its_vendor_allows(eight, fake):
    eight.max_request_days = 10
    eight.save()
    collect(*window_args(), "--json")
    asked = [(start, end) for kind, start, end in fake.calls if kind == "volume"]
    assert len(asked) == 6
    assert all(end - start == td(days=10) for start, end in asked)


def test_a_failure_midway_keeps_the_chunks_written_before_it(eight, fake):
    from integrations.vendors.errors import DataError

    calls = []
    original = fake.fetch_volume

    def second_fails(start, end):
        calls.append(start)
        if len(calls) == 2:
            raise DataError("8x8 GET /api/stats: HTTP 400: range too long")
        return original(start, end)

    fake.fetch_volume = second_fails
    with pytest.raises(Exception, match="range too long"):
        collect(*window_args())
    assert IntervalVolume.objects.count() == 28 * 96 * len(QUEUES)
    assert CollectionRun.objects.get().status == "failed"


def test_an_explicit_window_that_joins_the_cursor_moves_it_chunk_by_chunk(eight, fake):
    Cursor.objects.create(connection=eight, stream="volume", position=START)
    collect(*window_args(), "--json")
    assert Cursor.objects.get(connection=eight).position == T0


def test_on_a_terminal_a_progress_bar_shows_the_rate_and_the_time_left(eight, fake, clock):
    original = fake.fetch_volume

    def a_minute_per_request(start, end):
        clock.shift(td(minutes=1))
        return original(start, end)

    fake.fetch_volume = a_minute_per_request
    out, err = collect(*window_args(), stderr=Terminal())
    # After the first 28 days (2,688 intervals) in a minute: 44.8 a second, 3,072 left.
    assert "acme/eight volume:  47%" in err
    assert "2688/5760 [01:00<01:08, 44.80 intervals/s]" in err
    assert "5760/5760" in err
    assert "volume: ok" in out


def test_under_json_nothing_but_the_document_is_written_even_on_a_terminal(eight):
    out, err = collect(*window_args(), "--json", stderr=Terminal())
    assert err == ""
    assert json.loads(out)["status"] == "ok"


def test_when_stderr_is_not_a_terminal_no_bar_is_written(eight):
    out, err = collect(*window_args())
    assert err == ""
    assert "volume: ok" in out

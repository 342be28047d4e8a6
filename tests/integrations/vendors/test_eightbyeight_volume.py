"""8x8 15-minute volume built from per-queue interaction records (recorded fixtures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import responses
import time_machine
from responses import matchers

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.eightbyeight.adapter import EightByEightAdapter
from integrations.vendors.records import IntervalRecord

FIXTURES = Path(__file__).parent / "fixtures" / "eightbyeight"
BASE = "https://vcc-na10b.8x8.com/api/"
QUEUES = BASE + "rtstats/stats/queues.json"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
START = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
END = datetime(2025, 11, 20, 11, 0, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 11, 20, hour, minute, tzinfo=UTC)


def adapter() -> EightByEightAdapter:
    realtime = Section(BASE, {"tenant": "wfmsgDemo", "token": "realtime-token"})
    history = Section(BASE, {"tenant": "wfmsgDemo", "token": "history-token"})
    return EightByEightAdapter(
        ConnectionSettings(key="acme/eight", vendor="8x8", realtime=realtime, history=history)
    )


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def serve(queue: int, offset: int, body: dict, days: str = "20251119,20251121") -> None:
    responses.get(
        f"{BASE}stats/queues/{queue}/interactions.json",
        json=body,
        match=[matchers.query_param_matcher({"d": days, "n": str(offset)})],
    )


def serve_fixtures() -> None:
    responses.get(QUEUES, json=fixture("queues.json"))
    serve(103, 1, fixture("interactions_103_n1.json"))
    serve(103, 51, fixture("interactions_103_n51.json"))
    serve(104, 1, fixture("interactions_empty.json"))


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_it_buckets_records_by_time_entered_and_leaves_out_unfinished_intervals():
    serve_fixtures()

    records = adapter().fetch_volume(START, END)

    # 103 at 10:45 holds t-52, accepted but without handle times yet: left out for the
    # lookback of a later run. 104 answered "statistics": "" and has zero intervals.
    assert records == [
        IntervalRecord("103", at(10, 0), 25, 5, 2450, "Appointments"),
        IntervalRecord("103", at(10, 15), 25, 5, 2950, "Appointments"),
        IntervalRecord("103", at(10, 30), 2, 1, 150, "Appointments"),
        IntervalRecord("104", at(10, 0), 0, 0, 0, "Billing"),
        IntervalRecord("104", at(10, 15), 0, 0, 0, "Billing"),
        IntervalRecord("104", at(10, 30), 0, 0, 0, "Billing"),
        IntervalRecord("104", at(10, 45), 0, 0, 0, "Billing"),
    ]


@time_machine.travel(datetime(2025, 11, 20, 15, 0, tzinfo=UTC), tick=False)
@responses.activate
def test_long_after_the_lag_an_empty_handle_time_counts_as_zero():
    serve_fixtures()

    records = adapter().fetch_volume(START, END)

    assert IntervalRecord("103", at(10, 45), 1, 0, 0, "Appointments") in records
    assert len(records) == 8


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_it_uses_the_history_token_and_asks_for_a_day_on_each_side():
    responses.get(
        QUEUES,
        json={"queue": {"queue-id": 104, "queue-name": "Billing"}},
        match=[matchers.header_matcher({"Authorization": "Basic d2Ztc2dEZW1vOmhpc3RvcnktdG9rZW4="})],
    )
    serve(104, 1, fixture("interactions_empty.json"), days="20251119,20251121")

    records = adapter().fetch_volume(START, END)

    assert [r.interval_start for r in records] == [at(10, 0), at(10, 15), at(10, 30), at(10, 45)]


@time_machine.travel(at(10, 40), tick=False)
@responses.activate
def test_it_never_returns_an_interval_that_has_not_closed():
    responses.get(QUEUES, json={"queue": [{"queue-id": 104, "queue-name": "Billing"}]})
    serve(104, 1, fixture("interactions_empty.json"))

    records = adapter().fetch_volume(START, END)

    assert [r.interval_start for r in records] == [at(10, 0), at(10, 15)]


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_record_repeated_on_the_next_page_is_counted_once():
    page = fixture("interactions_103_n1.json")
    responses.get(QUEUES, json={"queue": [{"queue-id": 103, "queue-name": "Appointments"}]})
    serve(103, 1, page)
    # The next page starts with the last record of the first again (records shifted).
    serve(103, 51, {"statistics": {"statistic": [page["statistics"]["statistic"][49]]}})

    records = adapter().fetch_volume(START, END)

    assert records[1] == IntervalRecord("103", at(10, 15), 25, 5, 2950, "Appointments")
    assert len(responses.calls) == 3


@time_machine.travel(datetime(2025, 11, 3, 12, 0, tzinfo=UTC), tick=False)
@responses.activate
def test_a_window_across_utc_midnight_on_a_dst_change_day_asks_for_every_day_it_may_touch():
    # 8x8's `d` days are the tenant's local days (2 Nov 2025: US clocks fall back at 06:00 UTC).
    # Asking one UTC day more on each side covers any zone; records are cut to the exact window.
    responses.get(QUEUES, json={"queue": [{"queue-id": 103, "queue-name": "Appointments"}]})
    late = {"transaction-id": "late", "time-entered": 1762127700000, "abandoned": "N"}  # 2025-11-02 23:55
    early = {"transaction-id": "early", "time-entered": 1762128060000, "abandoned": "N"}  # 2025-11-03 00:01
    outside = {"transaction-id": "out", "time-entered": 1762126200000, "abandoned": "N"}  # 2025-11-02 23:30
    page = [{**r, "processtime": "60", "postprocess": "6"} for r in (late, early, outside)]
    serve(103, 1, {"statistics": {"statistic": page}}, days="20251101,20251104")

    records = adapter().fetch_volume(
        datetime(2025, 11, 2, 23, 45, tzinfo=UTC), datetime(2025, 11, 3, 0, 15, tzinfo=UTC)
    )

    assert records == [
        IntervalRecord("103", datetime(2025, 11, 2, 23, 45, tzinfo=UTC), 1, 0, 66, "Appointments"),
        IntervalRecord("103", datetime(2025, 11, 3, 0, 0, tzinfo=UTC), 1, 0, 66, "Appointments"),
    ]

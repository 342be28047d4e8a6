from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from datetime import timedelta as td
from pathlib import Path

import pytest

from integrations.sandbox import drop
from integrations.sandbox.faults import FaultBoard
from integrations.sandbox.traffic import SLOT, Traffic

from .conftest import NOON, Clock

HEADER = ["Call ID", "Hunt Group", "Start Time", "Handle Time", "Result"]


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_a_file_holds_every_call_of_its_interval_in_the_documented_layout(tmp_path, traffic):
    interval = NOON - SLOT
    path = drop.write_interval(tmp_path, traffic, interval)
    assert path.name == "CallVolume_20250611_1645.csv"
    assert path.read_bytes().startswith(b"Call ID,Hunt Group,Start Time,Handle Time,Result\r\n")
    header, *rows = _rows(path)
    assert header == HEADER
    calls = {
        c.call_id: c for q in traffic.queues("tcn") for c in traffic.calls_in_slot("tcn", q.id, interval)
    }
    assert len(rows) == len(calls) > 0
    for call_id, group, start, handle, result in rows:
        call = calls[call_id]
        assert group == call.queue_id
        # 16:45 UTC in June is 09:45 in Los Angeles (PDT, UTC-7).
        assert start.startswith("2025/06/11 09:")
        assert (
            datetime.strptime(start, "%Y/%m/%d %H:%M").minute == call.entered.astimezone(drop.PACIFIC).minute
        )
        assert int(handle) == call.handle_seconds
        assert result == ("ABANDONED" if call.abandoned else "ANSWERED")


def test_an_interval_without_calls_is_a_header_only_file(tmp_path, traffic):
    night = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)  # 04:00 in Chicago
    while any(traffic.calls_in_slot("tcn", q.id, night) for q in traffic.queues("tcn")):
        night += SLOT
    assert _rows(drop.write_interval(tmp_path, traffic, night)) == [HEADER]


def test_it_writes_a_temporary_file_and_renames_it(tmp_path, traffic, monkeypatch):
    seen = {}
    real_replace = os.replace

    def spy(src, dst):
        seen["src"], seen["dst"] = Path(src), Path(dst)
        seen["src_content"] = Path(src).read_bytes()
        seen["dst_existed"] = Path(dst).exists()
        real_replace(src, dst)

    monkeypatch.setattr(drop.os, "replace", spy)
    path = drop.write_interval(tmp_path / "new" / "folder", traffic, NOON)
    assert seen["src"].name == "CallVolume_20250611_1700.csv.tmp"
    assert seen["dst"] == path and not seen["dst_existed"]
    assert seen["src_content"] == path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_start_times_are_pacific_across_the_spring_forward_day(tmp_path):
    # Moscow's noon is 09:00 UTC, so the hours around the Pacific change are busy.
    traffic = Traffic(zone="Europe/Moscow")
    files = drop.backfill(
        [tmp_path], traffic, datetime(2025, 3, 9, 9, tzinfo=UTC), datetime(2025, 3, 9, 11, tzinfo=UTC)
    )
    hours = {}
    for path in files:
        rows = _rows(path)[1:]
        assert rows
        hours[path.name] = {r[2][11:13] for r in rows}
    # 09:xx UTC is 01:xx PST; at 10:00 UTC clocks jump to 03:00 PDT; no 02:xx exists.
    assert hours["CallVolume_20250309_0945.csv"] == {"01"}
    assert hours["CallVolume_20250309_1000.csv"] == {"03"}
    assert all("02" not in h for h in hours.values())


def test_start_times_repeat_the_hour_on_the_fall_back_day(tmp_path):
    traffic = Traffic(zone="Europe/Moscow")
    files = drop.backfill(
        [tmp_path], traffic, datetime(2025, 11, 2, 8, tzinfo=UTC), datetime(2025, 11, 2, 10, tzinfo=UTC)
    )
    by_name = {p.name: _rows(p)[1:] for p in files}
    # 08:30 UTC is 01:30 PDT and 09:30 UTC is 01:30 PST: the same local hour, twice.
    first, second = by_name["CallVolume_20251102_0830.csv"], by_name["CallVolume_20251102_0930.csv"]
    assert first and second
    assert {r[2][:13] for r in first} == {r[2][:13] for r in second} == {"2025/11/02 01"}
    assert {r[2][14:16] for r in first} | {r[2][14:16] for r in second} <= {f"{m:02d}" for m in range(30, 45)}


def test_backfill_writes_each_closed_interval_into_every_folder(tmp_path, traffic):
    folders = [tmp_path / "a", tmp_path / "b"]
    files = drop.backfill(folders, traffic, NOON - td(days=1), NOON + td(minutes=7))
    assert len(files) == 2 * 96
    for folder in folders:
        names = sorted(p.name for p in folder.iterdir())
        assert names[0] == "CallVolume_20250610_1700.csv" and names[-1] == "CallVolume_20250611_1645.csv"
    # The same interval always renders to the same bytes, so a re-sent file is a duplicate.
    again = drop.write_interval(tmp_path / "c", traffic, NOON - SLOT)
    assert again.read_bytes() == (folders[0] / again.name).read_bytes()


def test_files_add_up_to_the_interval_truth(tmp_path, traffic):
    start = NOON - td(hours=3)
    files = drop.backfill([tmp_path], traffic, start, NOON)
    got = {}
    for path in files:
        interval = datetime.strptime(path.name, "CallVolume_%Y%m%d_%H%M.csv").replace(tzinfo=UTC)
        for _id, group, _start, handle, result in _rows(path)[1:]:
            entered, abandoned, seconds = got.get((group, interval), (0, 0, 0))
            got[(group, interval)] = (entered + 1, abandoned + (result == "ABANDONED"), seconds + int(handle))
    for t in traffic.interval_truth("tcn", start, NOON):
        assert got.get((t.queue_id, t.interval_start), (0, 0, 0)) == (
            t.entered,
            t.abandoned,
            t.handle_seconds,
        )


def test_the_writer_writes_closed_intervals_once_and_catches_up(tmp_path, traffic):
    clock = Clock(NOON + td(minutes=3))
    writer = drop.DropWriter([tmp_path], traffic, FaultBoard(), clock)
    assert [p.name for p in writer.tick()] == ["CallVolume_20250611_1645.csv"]
    assert writer.tick() == []  # nothing new closed
    clock.advance(minutes=45)  # the process slept through three boundaries
    assert [p.name for p in writer.tick()] == [
        "CallVolume_20250611_1700.csv",
        "CallVolume_20250611_1715.csv",
        "CallVolume_20250611_1730.csv",
    ]


def test_a_missing_file_fault_skips_the_files(tmp_path, traffic):
    faults = FaultBoard()
    faults.set("tcn", "missing_file")
    clock = Clock(NOON + td(minutes=1))
    writer = drop.DropWriter([tmp_path], traffic, faults, clock)
    assert writer.tick() == []
    assert drop.backfill([tmp_path], traffic, NOON - td(hours=1), NOON, faults) == []
    faults.set("tcn", None)
    clock.advance(minutes=15)
    assert [p.name for p in writer.tick()] == ["CallVolume_20250611_1700.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CallVolume_20250611_1700.csv"]


def test_an_interval_off_the_grid_is_refused(tmp_path, traffic):
    with pytest.raises(ValueError, match="15-minute grid"):
        drop.write_interval(tmp_path, traffic, NOON + td(minutes=5))
    assert not list(tmp_path.iterdir())

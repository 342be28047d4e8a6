# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from collectors.drops import DUPLICATE, INGESTED, QUARANTINED, ingest_path, scan_connection
from collectors.models import CollectionRun, CollectionSchedule, DropFile, IntervalVolume
from integrations.vendors.base import STREAM_FILE_DROP

from .drops_helpers import calls, drop_conn, drop_root, folder  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        yield


def volumes(conn) -> list[tuple[str, datetime, int, int, int]]:
    return sorted(
        IntervalVolume.objects.filter(connection=conn).values_list(
            "queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds"
        )
    )


def test_a_call_detail_file_becomes_interval_rows_a_ledger_entry_and_a_run(drop_conn, folder):
    path = folder / "CallVolume_20250115_1700.csv"
    path.write_bytes(calls("1,Sales,2025/01/15 09:02,120,ANSWERED", "2,Sales,2025/01/15 09:10,0,ABANDONED"))
    result = ingest_path(drop_conn, path)
    assert result.status == INGESTED
    assert volumes(drop_conn) == [("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 2, 1, 120)]
    ledger = DropFile.objects.get(connection=drop_conn)
    assert (ledger.name, ledger.status, ledger.rows) == (path.name, DropFile.INGESTED, 2)
    run = CollectionRun.objects.get(pk=result.run_id)
    assert (run.stream, run.status, run.source, run.rows_created) == (STREAM_FILE_DROP, "ok", path.name, 1)
    assert run.window_start == datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
    assert not path.exists()
    assert (folder / "processed" / "2025-01-15" / path.name).exists()
    schedule = CollectionSchedule.objects.get(connection=drop_conn, stream=STREAM_FILE_DROP)
    assert schedule.last_success_at == datetime(2025, 1, 15, 18, 0, tzinfo=UTC)


def test_the_same_content_under_another_name_is_a_no_op(drop_conn, folder):
    content = calls("1,Sales,2025/01/15 09:02,120,ANSWERED")
    (folder / "a.csv").write_bytes(content)
    ingest_path(drop_conn, folder / "a.csv")
    before = list(IntervalVolume.objects.values_list("id", "entered", "collected_at"))
    (folder / "b.csv").write_bytes(content)
    with time_machine.travel(datetime(2025, 1, 15, 19, 0, tzinfo=UTC), tick=False):
        result = ingest_path(drop_conn, folder / "b.csv")
    assert result.status == DUPLICATE
    assert "same content as a.csv" in result.notes[0]
    assert list(IntervalVolume.objects.values_list("id", "entered", "collected_at")) == before
    assert DropFile.objects.filter(connection=drop_conn).count() == 1
    assert (folder / "processed" / "2025-01-15" / "b.csv").exists()


def test_overlapping_call_detail_files_count_each_call_once(drop_conn, folder):
    (folder / "one.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,100,ANSWERED", "2,Sales,2025/01/15 09:05,50,ANSWERED")
    )
    (folder / "two.csv").write_bytes(
        calls("2,Sales,2025/01/15 09:05,50,ANSWERED", "3,Sales,2025/01/15 09:08,0,ABANDONED")
    )
    ingest_path(drop_conn, folder / "one.csv")
    ingest_path(drop_conn, folder / "two.csv")
    assert volumes(drop_conn) == [("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 3, 1, 150)]


def test_a_bad_file_is_quarantined_and_leaves_earlier_data_untouched(drop_conn, folder):
    (folder / "good.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,100,ANSWERED"))
    ingest_path(drop_conn, folder / "good.csv")
    before = volumes(drop_conn)
    bad = folder / "bad.csv"
    bad.write_bytes(calls("2,Sales,2025/01/15 09:03,40,ANSWERED", "3,Sales,2025/01/15 09:04,forty,ANSWERED"))
    result = ingest_path(drop_conn, bad)
    assert result.status == QUARANTINED
    assert volumes(drop_conn) == before
    reason = (folder / "quarantine" / "bad.csv.reason").read_text()
    assert "bad.csv: line 3, column 'Handle Time': 'forty' is not a duration" in reason
    assert (folder / "quarantine" / "bad.csv").exists()
    run = CollectionRun.objects.get(pk=result.run_id)
    assert (run.status, run.stream, run.error_class) == ("failed", STREAM_FILE_DROP, "DataError")
    assert "line 3, column 'Handle Time': 'forty'" in run.error_message
    assert DropFile.objects.get(name="bad.csv").status == DropFile.QUARANTINED
    schedule = CollectionSchedule.objects.get(connection=drop_conn, stream=STREAM_FILE_DROP)
    assert schedule.consecutive_failures == 1
    assert "forty" in schedule.last_error


def test_a_bad_file_does_not_stop_the_files_after_it(drop_conn, folder):
    import os

    (folder / "1-bad.csv").write_bytes(b"Nope,Header\r\n1,2\r\n")
    (folder / "2-good.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,100,ANSWERED"))
    os.utime(folder / "1-bad.csv", ns=(1, 1))
    os.utime(folder / "2-good.csv", ns=(2, 2))
    assert scan_connection(drop_conn) == []  # first sight
    results = scan_connection(drop_conn)
    assert [(r.name, r.status) for r in results] == [("1-bad.csv", QUARANTINED), ("2-good.csv", INGESTED)]
    assert len(volumes(drop_conn)) == 1


def test_an_empty_file_is_a_successful_run_with_no_rows(drop_conn, folder):
    (folder / "empty.csv").write_bytes(b"")
    result = ingest_path(drop_conn, folder / "empty.csv")
    assert (result.status, result.rows) == (INGESTED, 0)
    run = CollectionRun.objects.get(pk=result.run_id)
    assert run.status == "ok"
    assert "drop is alive" in run.notes


def test_a_quarantined_content_dropped_again_is_retried(drop_conn, folder):
    content = calls("1,Sales,2025/13/15 09:02,100,ANSWERED")
    (folder / "x.csv").write_bytes(content)
    assert ingest_path(drop_conn, folder / "x.csv").status == QUARANTINED
    (folder / "x.csv").write_bytes(content)
    assert ingest_path(drop_conn, folder / "x.csv").status == QUARANTINED
    assert DropFile.objects.filter(connection=drop_conn).count() == 1
    assert (folder / "quarantine" / "x.1.csv").exists()


def test_a_future_interval_is_refused_by_the_writer_and_quarantined(drop_conn, folder):
    (folder / "future.csv").write_bytes(calls("1,Sales,2025/01/20 09:02,100,ANSWERED"))
    result = ingest_path(drop_conn, folder / "future.csv")
    assert result.status == QUARANTINED
    assert "more than a day in the future" in result.reason
    assert volumes(drop_conn) == []


def test_a_summary_layout_is_read_from_the_connection_options(drop_conn, folder):
    drop_conn.options = {"file_layout": {"kind": "interval_summary"}}
    drop_conn.save()
    (folder / "s.csv").write_bytes(
        b"Hunt Group,Interval Start,Calls Offered,Calls Abandoned,Handle Time\r\n"
        b"Sales,2025/01/15 09:00,9,1,900\r\n"
    )
    ingest_path(drop_conn, folder / "s.csv")
    assert volumes(drop_conn) == [("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 9, 1, 900)]


def test_a_wrong_layout_option_leaves_files_in_place_and_fails_once(drop_conn, folder):
    drop_conn.options = {"file_layout": {"kind": "nonsense"}}
    drop_conn.save()
    (folder / "a.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,100,ANSWERED"))
    scan_connection(drop_conn)
    scan_connection(drop_conn)
    assert (folder / "a.csv").exists()
    failed = CollectionRun.objects.filter(connection=drop_conn, status="failed")
    assert [r.error_class for r in failed] == ["DropConfigError"]
    assert "file_layout.kind must be one of" in failed[0].error_message


def test_a_header_only_file_of_a_quiet_interval_keeps_the_drop_alive_though_its_bytes_repeat(
    drop_conn, folder
):
    # Quiet intervals send identical header-only files: the ledger takes the second as a
    # duplicate, but it still proves the drop is alive.
    from collectors.drops import ingest_path
    from collectors.health import evaluate_all

    schedule = CollectionSchedule.objects.get(connection=drop_conn, stream="file_drop")
    first, second = folder / "CallVolume_1.csv", folder / "CallVolume_2.csv"
    first.write_bytes(calls())
    second.write_bytes(calls())
    with time_machine.travel("2026-03-02 12:00Z", tick=False):
        ingest_path(drop_conn, first)
    with time_machine.travel("2026-03-02 12:15Z", tick=False):
        ingest_path(drop_conn, second)
    schedule.refresh_from_db()
    assert schedule.last_success_at.isoformat() == "2026-03-02T12:15:00+00:00"
    with time_machine.travel("2026-03-02 12:45Z", tick=False):
        evaluate_all()
    schedule.refresh_from_db()
    assert schedule.status == "ok"

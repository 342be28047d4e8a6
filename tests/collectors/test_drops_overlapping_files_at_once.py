"""Overlapping call files ingested by two workers at once on PostgreSQL: each call counted once."""

# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection as db
from django.db import connections

from collectors.drops import INGESTED, IngestResult, ingest_path
from collectors.models import DropCall, DropFile, IntervalVolume

from .drops_helpers import calls, drop_conn, drop_root  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent sessions); set DATABASE_URL")


def call_row(n: int) -> str:
    """Call n: queue Sales or Support, inside the 09:00 quarter hour, abandoned every seventh."""
    queue = "Sales" if n % 2 else "Support"
    result = "ABANDONED" if n % 7 == 0 else "ANSWERED"
    handle = 0 if n % 7 == 0 else 60 + n
    return f"{n},{queue},2025/01/15 09:{n % 15:02d},{handle},{result}"


def expected(numbers: set[int]) -> dict[str, tuple[int, int, int]]:
    """(entered, abandoned, handle seconds) per queue, from the calls themselves."""
    out: dict[str, list[int]] = {}
    for n in numbers:
        queue = "Sales" if n % 2 else "Support"
        totals = out.setdefault(queue, [0, 0, 0])
        totals[0] += 1
        totals[1] += n % 7 == 0
        totals[2] += 0 if n % 7 == 0 else 60 + n
    return {q: (e, a, h) for q, (e, a, h) in out.items()}


def ingest_at_once(conn, paths: list[Path]) -> list[IngestResult]:
    barrier = threading.Barrier(len(paths))
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        try:
            barrier.wait()
            results.append(ingest_path(conn, path, move=False))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def stored(conn) -> dict[str, tuple[int, int, int]]:
    rows = IntervalVolume.objects.filter(connection=conn).values_list(
        "queue__vendor_id", "entered", "abandoned", "handle_seconds"
    )
    found: dict[str, tuple[int, int, int]] = {}
    for queue, *totals in rows:
        assert queue not in found, f"{queue}: more than one interval for one quarter hour"
        found[queue] = (totals[0], totals[1], totals[2])
    return found


def test_two_workers_ingesting_overlapping_files_count_each_call_once(drop_conn, tmp_path):
    first, second = tmp_path / "CallVolume_0900.csv", tmp_path / "CallVolume_0900_resent.csv"
    first.write_bytes(calls(*(call_row(n) for n in range(1, 301))))
    second.write_bytes(calls(*(call_row(n) for n in range(200, 501))))
    results = ingest_at_once(drop_conn, [first, second])
    assert sorted(r.status for r in results) == [INGESTED, INGESTED]
    assert stored(drop_conn) == expected(set(range(1, 501)))
    assert DropCall.objects.filter(connection=drop_conn).count() == 500
    assert DropFile.objects.filter(connection=drop_conn, status=DropFile.INGESTED).count() == 2


def test_three_workers_with_files_each_overlapping_the_others_count_each_call_once(drop_conn, tmp_path):
    spans = [range(1, 201), range(100, 301), range(150, 251)]
    paths = []
    for i, span in enumerate(spans):
        path = tmp_path / f"part{i}.csv"
        path.write_bytes(calls(*(call_row(n) for n in span)))
        paths.append(path)
    results = ingest_at_once(drop_conn, paths)
    assert [r.status for r in results] == [INGESTED] * 3
    assert stored(drop_conn) == expected(set(range(1, 301)))
    assert DropCall.objects.filter(connection=drop_conn).count() == 300


def test_the_same_file_sent_twice_at_once_is_ingested_once(drop_conn, tmp_path):
    body = calls(*(call_row(n) for n in range(1, 101)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = tmp_path / "a" / "CallVolume.csv", tmp_path / "b" / "CallVolume.csv"
    one.write_bytes(body)
    two.write_bytes(body)
    results = ingest_at_once(drop_conn, [one, two])
    assert sorted(r.status for r in results) == ["duplicate", INGESTED]
    assert stored(drop_conn) == expected(set(range(1, 101)))

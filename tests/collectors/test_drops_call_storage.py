# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""How call-detail calls are stored: once per (queue, call id), first report wins, file set at insert.

The tests without a marker run on both backends (SQLite: the ORM path; PostgreSQL: COPY
into a temporary table and one INSERT … WHERE NOT EXISTS); the `postgres` ones pin what
only the COPY path can get wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction

from collectors.drops import INGESTED, QUARANTINED, ingest_path
from collectors.models import DropCall, DropFile, IntervalVolume, call_key_of

from .drops_helpers import calls, drop_conn, drop_root, folder  # noqa: F401

pytestmark = pytest.mark.django_db

H17 = datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
H1715 = datetime(2025, 1, 15, 17, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite takes the ORM path")


def volumes(conn) -> list[tuple[str, datetime, int, int, int]]:
    return sorted(
        IntervalVolume.objects.filter(connection=conn).values_list(
            "queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds"
        )
    )


def stored_calls(conn) -> dict[str, str | None]:
    """The file each stored call is kept under, by call id ("Service 3" outside Sales): the
    ledger keeps only keys, the call's facts are in the intervals it was added to."""
    names = {call_key_of("Sales", str(n)): str(n) for n in range(1, 10)}
    names.update({call_key_of("Service", str(n)): f"Service {n}" for n in range(1, 10)})
    rows = DropCall.objects.filter(connection=conn).values_list("call_key", "file__name")
    return {names.get(key, f"key {key}"): name for key, name in rows}


def test_each_new_call_is_stored_with_the_file_that_first_reported_it(drop_conn, folder):
    (folder / "one.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,100,ANSWERED"))
    (folder / "two.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,999,ABANDONED", "2,Sales,2025/01/15 09:20,30,ANSWERED")
    )
    assert ingest_path(drop_conn, folder / "one.csv").status == INGESTED
    assert ingest_path(drop_conn, folder / "two.csv").status == INGESTED
    # Call 1 keeps its first report and its first file; call 2 belongs to two.csv.
    assert stored_calls(drop_conn) == {"1": "one.csv", "2": "two.csv"}
    assert volumes(drop_conn) == [("Sales", H17, 1, 0, 100), ("Sales", H1715, 1, 0, 30)]


def test_the_same_call_id_in_another_queue_is_another_call(drop_conn, folder):
    (folder / "a.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,100,ANSWERED", "1,Service,2025/01/15 09:03,0,ABANDONED")
    )
    ingest_path(drop_conn, folder / "a.csv")
    assert volumes(drop_conn) == [("Sales", H17, 1, 0, 100), ("Service", H17, 1, 1, 0)]


def test_a_file_only_repeating_known_calls_keeps_the_intervals_and_the_calls(drop_conn, folder):
    (folder / "one.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,100,ANSWERED", "2,Sales,2025/01/15 09:05,50,ABANDONED")
    )
    ingest_path(drop_conn, folder / "one.csv")
    (folder / "again.csv").write_bytes(calls("2,Sales,2025/01/15 09:05,50,ABANDONED"))
    result = ingest_path(drop_conn, folder / "again.csv")
    assert (result.status, result.rows, result.created) == (INGESTED, 1, 0)
    assert volumes(drop_conn) == [("Sales", H17, 2, 1, 150)]
    assert set(stored_calls(drop_conn).values()) == {"one.csv"}


def test_a_file_failing_after_its_first_calls_stores_none_of_them(drop_conn, folder):
    good = [f"{n},Sales,2025/01/15 09:02,10,ANSWERED" for n in range(1, 5001)]
    (folder / "bad.csv").write_bytes(calls(*good, "9999,Sales,2025/01/15 09:03,ten,ANSWERED"))
    result = ingest_path(drop_conn, folder / "bad.csv")
    assert result.status == QUARANTINED
    assert "line 5002, column 'Handle Time': 'ten'" in result.reason
    assert not DropCall.objects.filter(connection=drop_conn).exists()
    assert volumes(drop_conn) == []
    assert DropFile.objects.get(connection=drop_conn).status == DropFile.QUARANTINED


@pytest.mark.postgres
@pytest.mark.usefixtures("_postgres_only")
def test_on_postgresql_overlapping_files_through_copy_count_each_call_once_in_any_order(drop_conn, folder):
    one = calls(
        "1,Sales,2025/01/15 09:02,100,ANSWERED",
        "2,Sales,2025/01/15 09:05,50,ANSWERED",
        "3,Service,2025/01/15 09:16,0,ABANDONED",
    )
    two = calls(
        "2,Sales,2025/01/15 09:05,77,ABANDONED",  # a later, different report of call 2
        "3,Service,2025/01/15 09:16,0,ABANDONED",
        "4,Sales,2025/01/15 09:20,40,ANSWERED",
    )
    (folder / "two.csv").write_bytes(two)
    (folder / "one.csv").write_bytes(one)
    # The later file first: its report of call 2 is the first one stored, and wins.
    ingest_path(drop_conn, folder / "two.csv")
    ingest_path(drop_conn, folder / "one.csv")
    assert stored_calls(drop_conn) == {"1": "one.csv", "2": "two.csv", "Service 3": "two.csv", "4": "two.csv"}
    assert volumes(drop_conn) == [
        ("Sales", H17, 2, 1, 177),
        ("Sales", H1715, 1, 0, 40),
        ("Service", H1715, 1, 1, 0),
    ]
    ledger = DropFile.objects.get(connection=drop_conn, name="one.csv")
    assert (ledger.status, ledger.rows) == (DropFile.INGESTED, 3)


@pytest.mark.postgres
@pytest.mark.usefixtures("_postgres_only")
def test_on_postgresql_a_call_listed_twice_in_one_file_keeps_its_first_row(drop_conn, folder):
    rows = [f"{n},Sales,2025/01/15 09:02,10,ANSWERED" for n in range(1, 3000)]
    (folder / "a.csv").write_bytes(
        calls("7,Sales,2025/01/15 09:02,111,ANSWERED", *rows, "7,Sales,2025/01/15 09:02,222,ABANDONED")
    )
    ingest_path(drop_conn, folder / "a.csv")
    assert stored_calls(drop_conn)["7"] == "a.csv"
    assert DropCall.objects.filter(connection=drop_conn).count() == 2999
    [(_, _, entered, abandoned, handle)] = volumes(drop_conn)
    assert (entered, abandoned, handle) == (2999, 0, 111 + 2998 * 10)


@pytest.mark.postgres
@pytest.mark.usefixtures("_postgres_only")
def test_on_postgresql_a_failed_copy_leaves_no_temporary_table_behind(drop_conn, folder):
    (folder / "bad.csv").write_bytes(
        calls("1,Sales,2025/01/15 09:02,10,ANSWERED", "2,Sales,2025/01/15 09:03,ten,ANSWERED")
    )
    (folder / "good.csv").write_bytes(calls("3,Sales,2025/01/15 09:04,10,ANSWERED"))
    with transaction.atomic():  # both files in one outer transaction, as a caller may do
        assert ingest_path(drop_conn, folder / "bad.csv").status == QUARANTINED
        assert ingest_path(drop_conn, folder / "good.csv").status == INGESTED
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'sb_drop_calls'")
            assert cur.fetchone() == (0,)
    assert stored_calls(drop_conn) == {"3": "good.csv"}
    assert volumes(drop_conn) == [("Sales", H17, 1, 0, 10)]


def test_deleting_a_connection_deletes_its_calls_and_deleting_a_file_keeps_them(drop_conn, folder):
    # The ledger has no foreign-key constraints in the database (bench/: two million checks at
    # commit for a million calls); Django's own cascade and SET NULL must hold instead.
    (folder / "one.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,100,ANSWERED"))
    ingest_path(drop_conn, folder / "one.csv")
    DropFile.objects.filter(connection=drop_conn).delete()
    assert stored_calls(drop_conn) == {"1": None}
    drop_conn.delete()
    assert DropCall.objects.count() == 0

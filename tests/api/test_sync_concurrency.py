"""Writers commit out of order while a reader syncs: the reader still ends equal to the table.

Four writers open their transactions in order (so their transaction ids and change sequence
numbers rise in that order), write new and revised intervals, and then commit in reverse:
the last to start commits first. A reader syncs through the API after every commit. A cursor
on the sequence alone would hand out the fast writer's positions and then skip the slow
writers' rows, which carry smaller numbers (the test checks that this trap is really set).
With the horizon, no row is handed out while an older writer may still commit.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta as td

import pytest
from django.db import connection as db
from django.db import connections, transaction

from api.models import ApiKey
from collectors.models import IntervalVolume
from collectors.writers import upsert_intervals
from integrations.vendors.records import IntervalRecord
from tests.api.conftest import T0
from tests.api.synckit import sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WRITERS = 4
# Other sessions on a shared server may hold the horizon back for a while: the final sync
# waits for it (a condition, checked every few milliseconds), never for a fixed time.
SETTLE_SECONDS = 60


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (transaction ids and snapshots); set DATABASE_URL")
    settings.API_THROTTLE_RATE = "1000000/min"  # the reader polls while it waits


class Writer(threading.Thread):
    """Writes in one transaction, then waits for its turn to commit."""

    def __init__(self, conn, n: int):
        super().__init__(name=f"writer-{n}")
        self.conn, self.n = conn, n
        self.wrote, self.commit = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.txid: int | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                # Each writer its own queue: writers of the same rows would wait on each other's
                # row locks and commit in order (revisions are test_sync's part).
                starts = [T0 + td(minutes=15 * i) for i in range(5)]
                records = [IntervalRecord(f"q{self.n}", start, self.n, 0, 0) for start in starts]
                upsert_intervals(self.conn, records, T0 + td(hours=1))
                with db.cursor() as cur:
                    cur.execute("SELECT pg_current_xact_id()::text::bigint")
                    self.txid = cur.fetchone()[0]
                self.wrote.set()
                if not self.commit.wait(timeout=60):
                    raise TimeoutError("never told to commit")
        except BaseException as exc:
            self.error = exc
            self.wrote.set()
        finally:
            connections.close_all()


def table(conn) -> dict[int, tuple]:
    return {
        pk: (start.isoformat().replace("+00:00", "Z"), entered)
        for pk, start, entered in IntervalVolume.objects.filter(connection=conn).values_list(
            "id", "interval_start", "entered"
        )
    }


def copy_view(copy: dict[int, dict]) -> dict[int, tuple]:
    return {pk: (r["interval_start"], r["entered"]) for pk, r in copy.items()}


def test_writers_committing_out_of_order_never_hide_a_row_from_a_syncing_reader(client, conn_a, manager_a):
    _key, plain = ApiKey.create(conn_a.tenant, "wfm", ["data:read"], manager_a)
    upsert_intervals(conn_a, [IntervalRecord("q0", T0, 1, 0, 0)], T0)  # committed before anyone starts
    copy: dict[int, dict] = {}
    cursor, _ = sync(client, plain, "intervals", None, copy)

    writers = [Writer(conn_a, n) for n in range(1, WRITERS + 1)]
    for w in writers:  # started one after the other: ids and sequence numbers rise in this order
        w.start()
        assert w.wrote.wait(timeout=60)
        assert w.error is None, w.error
    try:
        for w in reversed(writers):  # the last to start commits first
            w.commit.set()
            w.join(timeout=60)
            assert w.error is None, w.error
            cursor, _ = sync(client, plain, "intervals", cursor, copy)
            # Rows of writers still open are never listed ahead of them...
            pending = {x.n for x in writers if x.is_alive()}
            assert not [r for r in copy.values() if r["queue_vendor_id"] in {f"q{n}" for n in pending}]
    finally:
        for w in writers:
            w.commit.set()
            w.join(timeout=60)

    # ...and the trap was really set: the first committer's rows sort after the slow writers'.
    fast = IntervalVolume.objects.filter(queue__vendor_id=f"q{WRITERS}").values_list("change_seq", flat=True)
    slow = IntervalVolume.objects.filter(queue__vendor_id="q1").values_list("change_seq", flat=True)
    assert min(fast) > max(slow)
    assert sorted(w.txid for w in writers) == [w.txid for w in writers]

    deadline = time.monotonic() + SETTLE_SECONDS
    while copy_view(copy) != table(conn_a) and time.monotonic() < deadline:
        cursor, _ = sync(client, plain, "intervals", cursor, copy)
    assert copy_view(copy) == table(conn_a)
    assert len(copy) == 1 + WRITERS * 5


def test_a_page_never_lists_a_row_of_a_transaction_still_open_behind_an_older_one(client, conn_a, manager_a):
    _key, plain = ApiKey.create(conn_a.tenant, "wfm", ["data:read"], manager_a)
    slow, fast = Writer(conn_a, 1), Writer(conn_a, 2)
    slow.start()
    assert slow.wrote.wait(timeout=60)
    fast.start()
    assert fast.wrote.wait(timeout=60)
    try:
        fast.commit.set()
        fast.join(timeout=60)
        assert fast.error is None, fast.error
        # The fast writer has committed, yet its rows stay unlisted while the slow one may commit.
        copy: dict[int, dict] = {}
        cursor, received = sync(client, plain, "intervals", None, copy)
        assert received == 0
    finally:
        slow.commit.set()
        slow.join(timeout=60)
    assert slow.error is None, slow.error
    deadline = time.monotonic() + SETTLE_SECONDS
    while len(copy) < 10 and time.monotonic() < deadline:
        cursor, _ = sync(client, plain, "intervals", cursor, copy)
    assert {r["queue_vendor_id"] for r in copy.values()} == {"q1", "q2"}
    assert copy_view(copy) == table(conn_a)


def test_a_transaction_open_in_another_database_does_not_hold_rows_back(client, conn_a, manager_a):
    import psycopg

    _key, plain = ApiKey.create(conn_a.tenant, "wfm", ["data:read"], manager_a)
    params = db.get_connection_params()
    other = psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=False)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # holds an id, as a long write would
        upsert_intervals(conn_a, [IntervalRecord("q0", T0, 1, 0, 0)], T0)
        _cursor, received = sync(client, plain, "intervals", None, {})
        assert received == 1
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize(
    ("xid", "xmax", "full"),
    [
        (100, 200, 100),
        (100, (3 << 32) | 200, (3 << 32) | 100),
        (2**32 - 5, (3 << 32) | 10, (2 << 32) | (2**32 - 5)),
    ],
)
def test_a_32_bit_transaction_id_is_widened_in_the_right_epoch(xid, xmax, full):
    from api.changes import _widen

    assert _widen(xid, xmax) == full

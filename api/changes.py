"""The change cursor: incremental sync that never skips a row.

Every synced row carries a change position `(change_txid, change_seq)`, moved by database
triggers on each insert and each real change (collectors.models.ChangePosition). A page
lists rows after the caller's position in that order, and the next cursor is the last row's.

The trap is a transaction that commits late: its rows carry positions assigned while it
ran, so a reader that already handed out a later cursor would skip them for good. On
PostgreSQL a row's `change_txid` is its writer's transaction id, and a page holds only rows
below `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has
ended, and every transaction that writes later gets a larger id, so nothing can appear
behind a cursor handed out. A long transaction delays what the API shows; it never hides
a row. On SQLite writers are serialised and the counter is bumped inside the write, so
positions are already in commit order and there is no horizon.

A cursor is signed (opaque, and a client cannot forge its age) and remembers when it was
issued: after API_CURSOR_MAX_AGE it answers 410 Gone, because retention may have pruned rows
the consumer never saw (pruning is not reported as a change).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db import connection as db
from django.db.models import Model, QuerySet
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError

from api.conf import app_settings

SALT = "api.cursor"


class CursorGone(APIException):
    status_code = 410
    default_code = "cursor_gone"
    default_detail = "This cursor is too old; sync again from the start (omit `after`)."


@dataclass(frozen=True)
class Cursor:
    position: tuple[int, ...]
    issued: datetime

    def encode(self) -> str:
        return signing.dumps([list(self.position), int(self.issued.timestamp())], salt=SALT, compress=True)

    @classmethod
    def decode(cls, text: str, width: int) -> Cursor:
        try:
            position, issued = signing.loads(text, salt=SALT)
            position = tuple(int(p) for p in position)
            when = datetime.fromtimestamp(int(issued), tz=UTC)
        except (signing.BadSignature, ValueError, TypeError, OverflowError):
            raise ValidationError({"after": "not a cursor this API issued"}) from None
        if len(position) != width:
            raise ValidationError({"after": "this cursor belongs to another resource"})
        return cls(position, when)


def oldest_valid_cursor(model: type[Model], now: datetime | None = None) -> datetime:
    """Cursors issued before this are answered 410 Gone.

    A cursor older than API_CURSOR_MAX_AGE, or older than the model's retention horizon
    (`collectors.retention.retention_horizon`: rows before it may have been pruned unseen;
    for tenant-scoped tables the latest of every tenant's, the safe answer across tenants).
    """
    from collectors.retention import retention_horizon

    oldest = (now or timezone.now()) - app_settings.CURSOR_MAX_AGE
    pruned = retention_horizon(model)
    return max(oldest, pruned) if pruned is not None else oldest


def horizon() -> int | None:
    """Rows whose change_txid is below this have committed (or never will); None on SQLite.

    `pg_snapshot_xmin` alone is the oldest transaction running anywhere on the server: a long
    transaction in another database (a benchmark, a report) would hold back this API too.
    Only sessions of this database can write its rows, so the horizon is the oldest
    transaction id still running here, or the snapshot's xmax when none is. The snapshot is
    read first: a transaction of this database below its xmax is either over or still shows
    in pg_stat_activity when that is read next; one that starts later gets a larger id. When
    another role's sessions here hide their transaction ids from us, the server-wide xmin is
    the safe answer.
    """
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cur:
        cur.execute(SNAPSHOT_SQL)
        xmin, xmax = cur.fetchone()
        cur.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is cached per transaction
        cur.execute(HORIZON_SQL)
        blind, running = cur.fetchone()
    if blind:
        return xmin
    return min([xmax, *(_widen(xid, xmax) for xid in running or [])])


SNAPSHOT_SQL = (
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint FROM pg_current_snapshot() s"
)
# Transaction ids (32 bits) of this database's sessions and prepared transactions, and whether
# any of them is another role's whose ids we may not see (then `blind`).
HORIZON_SQL = """
WITH me AS (
    SELECT oid, rolsuper OR pg_has_role(oid, 'pg_read_all_stats', 'MEMBER') AS sees_all
    FROM pg_roles WHERE rolname = current_user
)
SELECT
    EXISTS (
        SELECT 1 FROM pg_stat_activity a, me
        WHERE a.datname = current_database() AND a.usesysid <> me.oid AND NOT me.sees_all
    ),
    ARRAY(
        SELECT backend_xid::text::bigint FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL
        UNION ALL
        SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database()
    )
"""


def _widen(xid: int, xmax: int) -> int:
    """A running transaction's 32-bit id as the 64-bit id it has (it is below xmax)."""
    epoch, low = xmax >> 32, xmax & 0xFFFFFFFF
    return ((epoch if xid <= low else epoch - 1) << 32) | xid


def _column(qs: QuerySet[Any], name: str) -> str:
    meta = qs.model._meta
    return (meta.pk if name == "pk" else meta.get_field(name)).column


def after(qs: QuerySet[Any], fields: tuple[str, ...], position: tuple[int, ...]) -> QuerySet[Any]:
    """Rows whose (fields) come after `position`, as one row comparison the index serves."""
    table = qs.model._meta.db_table
    columns = ", ".join(f'"{table}"."{_column(qs, f)}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return qs.extra(where=[f"({columns}) > ({marks})"], params=list(position))  # noqa: S610


def visible(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Restrict a change-ordered queryset to rows no late commit can precede."""
    bound = horizon()
    return qs if bound is None else qs.filter(change_txid__lt=bound)


def up_to(qs: QuerySet[Any], fields: tuple[str, ...] | Any, position: tuple[int, ...]) -> QuerySet[Any]:
    """Rows whose (fields) are at or before `position`."""
    table = qs.model._meta.db_table
    columns = ", ".join(f'"{table}"."{_column(qs, f)}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return qs.extra(where=[f"({columns}) <= ({marks})"], params=list(position))  # noqa: S610


CHANGE_FIELDS = ("change_txid", "change_seq")
Position = tuple[int, ...]


def page(
    qs: QuerySet[Any],
    connection_ids: Sequence[int],
    lookups: Sequence[str],
    limit: int,
    position: Position | None = None,
    end: Position | None = None,
) -> tuple[list[tuple[Any, ...]], Position | None, bool]:
    """Up to `limit` rows after `position` (and at or before `end`) in change order.

    Returns the rows' `lookups` values, the position of the last row considered (the next
    cursor) and whether more rows follow. `qs` must already be limited to visible rows.

    One query per connection, each a range scan of the (connection, position) index, merged
    here: a single query over several connections left PostgreSQL free to sort all the
    remaining rows for every page, which made a full sync quadratic. The values are read in
    a second query by id; a row that moved in between is left out, since it comes again at
    its new position, which lies after this page.
    """
    heads = []
    for connection_id in connection_ids:
        q = qs.filter(connection_id=connection_id)
        if position is not None:
            q = after(q, CHANGE_FIELDS, position)
        if end is not None:
            q = up_to(q, CHANGE_FIELDS, end)
        heads.append(list(q.order_by(*CHANGE_FIELDS).values_list(*CHANGE_FIELDS, "pk")[: limit + 1]))
    merged = list(heapq.merge(*heads))
    more = len(merged) > limit
    merged = merged[:limit]
    if not merged:
        return [], position, False
    found = {
        row[0]: row
        for row in qs.model._default_manager.filter(pk__in=[pk for _t, _s, pk in merged]).values_list(
            "pk", *CHANGE_FIELDS, *lookups
        )
    }
    rows = []
    for txid, seq, pk in merged:
        row = found.get(pk)
        if row is not None and row[1:3] == (txid, seq):
            rows.append(row[3:])
    return rows, tuple(merged[-1][:2]), more


def last_position(qs: QuerySet[Any], connection_ids: Sequence[int]) -> Position | None:
    """The largest position among `qs`'s rows of these connections (one index probe each)."""
    found = [
        qs.filter(connection_id=c)
        .order_by(*(f"-{f}" for f in CHANGE_FIELDS))
        .values_list(*CHANGE_FIELDS)
        .first()
        for c in connection_ids
    ]
    return max((tuple(p) for p in found if p is not None), default=None)

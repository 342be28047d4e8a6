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

    The one place to wire retention in: when a model's rows are pruned after N days, a
    cursor older than N days may sit before rows deleted unseen. Today it is a setting.
    """
    return (now or timezone.now()) - app_settings.CURSOR_MAX_AGE


def horizon() -> int | None:
    """Rows whose change_txid is below this have committed (or never will); None on SQLite."""
    if db.vendor != "postgresql":
        return None
    with db.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cur.fetchone()[0]


def _column(qs: QuerySet[Any], name: str) -> str:
    meta = qs.model._meta
    return (meta.pk if name == "pk" else meta.get_field(name)).column


def after(qs: QuerySet[Any], fields: tuple[str, ...], position: tuple[int, ...]) -> QuerySet[Any]:
    """Rows whose (fields) come after `position`, as one row comparison the index serves."""
    table = qs.model._meta.db_table
    columns = ", ".join(f'"{table}"."{_column(qs, f)}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return qs.extra(where=[f"({columns}) > ({marks})"], params=list(position))  # noqa: S610


def visible(qs: QuerySet[Any], limit: int | None) -> QuerySet[Any]:
    """Restrict a change-ordered queryset to rows no late commit can precede."""
    bound = limit if limit is not None else horizon()
    return qs if bound is None else qs.filter(change_txid__lt=bound)


def up_to(qs: QuerySet[Any], fields: tuple[str, ...] | Any, position: tuple[int, ...]) -> QuerySet[Any]:
    """Rows whose (fields) are at or before `position`."""
    table = qs.model._meta.db_table
    columns = ", ".join(f'"{table}"."{_column(qs, f)}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return qs.extra(where=[f"({columns}) <= ({marks})"], params=list(position))  # noqa: S610

"""The rules an interval row must meet, declared once for both places they are checked.

Records a vendor sends are checked in Python before anything is written
(`collectors.writers.upsert_intervals`); interval totals computed inside PostgreSQL (a
call-detail file's recomputed intervals) are checked by one SQL query over their staging
table (`collectors.writers.merge_named_stage`). Both read `RULES`: each rule names its field,
says in Python and in SQL when a value breaks it, and words the error once, so the two paths
refuse the same rows with the same message. The first broken rule in table order is the one
reported.

Python also checks types first (a string id, an aware datetime, integer counts): a staged
SQL row has them by its column types, so those checks have no SQL side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import Any

from integrations.vendors.errors import DataError
from integrations.vendors.grid import EARLIEST
from integrations.vendors.records import IntervalRecord

# The columns a rule can judge, in the order they are checked (and staged).
FIELDS = ("queue_vendor_id", "interval_start", "entered", "abandoned", "handle_seconds")
COUNT_FIELDS = ("entered", "abandoned", "handle_seconds")
MAX_FUTURE = td(days=1)
# PositiveBigIntegerField's ceiling on PostgreSQL; PositiveIntegerField's for the others.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
COUNT_LIMITS = {"entered": MAX_INT, "abandoned": MAX_INT, "handle_seconds": MAX_BIGINT}
# Every character `str.isspace()` (and so `str.strip()`) treats as whitespace, for SQL's
# btrim: a test checks the list against Python's own.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One invariant of one field, named for tests and readers.

    `refuses(value, latest)` is the Python predicate (an `interval_start` value is already
    in UTC; `latest` is the latest start allowed); `sql` is the same predicate over the staged
    columns, with the parameters `%(latest)s`, `%(earliest)s` and `%(whitespace)s`. The
    message may name `{value}`, `{vid}` (the queue's vendor id) and `{start}` (ISO, UTC).
    """

    name: str
    field: str
    refuses: Callable[[Any, datetime], bool]
    sql: str
    message: str

    def error(self, vid: object, start: datetime | None, value: object, sample: str) -> DataError:
        when = start.isoformat() if start is not None else ""
        return DataError(self.message.format(vid=vid, start=when, value=value), sample=sample)


def _count_rules(name: str, limit: int) -> tuple[Rule, Rule]:
    where = "of queue {vid!r} at {start}"
    return (
        Rule(
            f"{name} is negative",
            name,
            lambda v, _latest: v < 0,
            f"{name} < 0",
            f"{name} {{value}} {where} is negative",
        ),
        Rule(
            f"{name} is implausibly large",
            name,
            lambda v, _latest: v > limit,
            f"{name} > {limit}",
            f"{name} {{value}} {where} is implausibly large",
        ),
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "queue_vendor_id is blank",
        "queue_vendor_id",
        lambda v, _latest: not v or v.isspace(),
        "btrim(queue_vendor_id, %(whitespace)s) = ''",
        "queue_vendor_id is empty ({vid!r})",
    ),
    # The grid is aligned to the Unix epoch, a UTC midnight, and 900 s divides a day: in UTC a
    # start is on it exactly when its minute is a multiple of 15 and nothing finer is set.
    Rule(
        "interval_start is off the grid",
        "interval_start",
        lambda v, _latest: bool(v.minute % 15 or v.second or v.microsecond),
        "mod(extract(epoch FROM interval_start)::numeric, 900) <> 0",
        "interval_start {start} of queue {vid!r} is not on the 15-minute UTC grid",
    ),
    Rule(
        "interval_start is too late",
        "interval_start",
        lambda v, latest: v > latest,
        "interval_start > %(latest)s",
        "interval_start {start} of queue {vid!r} is more than a day in the future",
    ),
    Rule(
        "interval_start is too early",
        "interval_start",
        lambda v, _latest: v < EARLIEST,
        "interval_start < %(earliest)s",
        "interval_start {start} of queue {vid!r} is before "
        f"{EARLIEST:%Y-%m-%d}, the earliest date Switchboard accepts",
    ),
    *(rule for name in COUNT_FIELDS for rule in _count_rules(name, COUNT_LIMITS[name])),
)
_BY_FIELD = {name: tuple(rule for rule in RULES if rule.field == name) for name in FIELDS}
_VID_RULES = _BY_FIELD["queue_vendor_id"]
_START_RULES = _BY_FIELD["interval_start"]
_COUNT_RULES = tuple((name, _BY_FIELD[name]) for name in COUNT_FIELDS)
_ENTERED_LIMIT, _ABANDONED_LIMIT, _HANDLE_LIMIT = (COUNT_LIMITS[name] for name in COUNT_FIELDS)


def check_record(record: IntervalRecord, latest: datetime) -> datetime:
    """Raise DataError naming the first type or rule a record breaks; return its start in UTC."""
    return Checker(latest)(record)


class Checker:
    """Checks the records of one batch, all against the same latest start.

    A rule's verdict depends only on the value and `latest`, so each distinct queue id and
    start is judged once per batch (a batch repeats both many times). Counts are nearly all
    distinct; their rules are the range [0, limit] of COUNT_LIMITS, so a count inside it
    breaks none of them and only a count outside it goes through the rules, for the message.
    """

    __slots__ = ("_starts", "_vids", "latest")

    def __init__(self, latest: datetime) -> None:
        self.latest = latest
        self._vids: set[str] = set()
        self._starts: set[datetime] = set()

    def __call__(self, record: IntervalRecord) -> datetime:
        vid = record.queue_vendor_id
        if type(vid) is not str or vid not in self._vids:
            self._check_vid(record)
        start = record.interval_start
        # Only UTC starts are remembered: two local times either side of a DST fold compare
        # equal (same zone, fold ignored) though they are an hour apart.
        if type(start) is datetime and start.tzinfo is UTC and start in self._starts:
            utc = start
        else:
            utc = self._check_start(record)
        entered, abandoned, handle = record.entered, record.abandoned, record.handle_seconds
        if not (
            type(entered) is int
            and type(abandoned) is int
            and type(handle) is int
            and 0 <= entered <= _ENTERED_LIMIT
            and 0 <= abandoned <= _ABANDONED_LIMIT
            and 0 <= handle <= _HANDLE_LIMIT
        ):
            self._check_counts(record, utc)
        return utc

    def _check_vid(self, record: IntervalRecord) -> None:
        vid = record.queue_vendor_id
        if not isinstance(vid, str):
            raise _VID_RULES[0].error(vid, None, vid, repr(record))
        for rule in _VID_RULES:
            if rule.refuses(vid, self.latest):
                raise rule.error(vid, None, vid, repr(record))
        self._vids.add(vid)

    def _check_start(self, record: IntervalRecord) -> datetime:
        start = record.interval_start
        if not isinstance(start, datetime) or (
            start.tzinfo is not UTC and (start.tzinfo is None or start.utcoffset() is None)
        ):
            vid = record.queue_vendor_id
            raise DataError(
                f"interval_start {start!r} of queue {vid!r} is not a timezone-aware datetime",
                sample=repr(record),
            )
        utc = start if start.tzinfo is UTC else start.astimezone(UTC)
        for rule in _START_RULES:
            if rule.refuses(utc, self.latest):
                raise rule.error(record.queue_vendor_id, utc, utc, repr(record))
        if start is utc:
            self._starts.add(utc)
        return utc

    def _check_counts(self, record: IntervalRecord, start: datetime) -> None:
        """Raise naming the first count that is not an integer or breaks a rule (int subclasses pass)."""
        for name, rules in _COUNT_RULES:
            value = getattr(record, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise DataError(
                    f"{name} {value!r} of queue {record.queue_vendor_id!r} at {start.isoformat()} "
                    "is not an integer",
                    sample=repr(record),
                )
            for rule in rules:
                if rule.refuses(value, self.latest):
                    raise rule.error(record.queue_vendor_id, start, value, repr(record))


def staged_check_sql(table: str) -> str:
    """One query returning the first staged row that breaks a rule (the first rule first, then
    the earliest start), its columns in FIELDS order followed by the rule's index in RULES."""
    cases = " ".join(f"WHEN {rule.sql} THEN {i}" for i, rule in enumerate(RULES))
    columns = ", ".join(FIELDS)
    # Identifiers from the caller's constant and SQL from RULES; values are parameters.
    return (
        f"SELECT {columns}, broken FROM (SELECT {columns}, CASE {cases} END AS broken FROM {table}) s "  # noqa: S608
        "WHERE broken IS NOT NULL ORDER BY broken, interval_start, queue_vendor_id LIMIT 1"
    )


def staged_check_params(latest: datetime) -> dict[str, object]:
    return {"latest": latest, "earliest": EARLIEST, "whitespace": WHITESPACE}


def staged_error(row: tuple[Any, ...]) -> DataError:
    """The error for a row `staged_check_sql` returned, worded as `check_record` words it."""
    *values, index = row
    rule = RULES[index]
    vid, start = values[0], values[1].astimezone(UTC)
    return rule.error(vid, start, values[FIELDS.index(rule.field)], repr(tuple(values)))

"""A vendor's records (checked in Python) and totals computed in PostgreSQL (checked in SQL)
obey the same rules: for every rule, both refuse the row just past its limit with the same
message and both accept the row at its limit."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from datetime import timedelta as td
from typing import cast

import pytest
from django.db import connection as db

from collectors.interval_rules import FIELDS, MAX_BIGINT, MAX_INT, RULES, WHITESPACE
from collectors.models import IntervalVolume
from collectors.writers import NAMED_STAGE_SQL, NAMED_TABLE, merge_named_stage, upsert_intervals
from integrations.vendors.errors import DataError
from integrations.vendors.grid import EARLIEST
from integrations.vendors.records import IntervalRecord

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 1, 15, 18, 0, tzinfo=UTC)
LATEST = NOW + td(days=1)
Row = tuple[str, datetime, int, int, int]
GOOD: Row = ("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 3, 1, 200)
# Another interval of the same batch, written before the row under test: a refusal must
# leave it unwritten too.
OTHER: Row = ("Support", datetime(2025, 1, 15, 16, 45, tzinfo=UTC), 1, 0, 10)


def row(**change: object) -> Row:
    values = dict(zip(FIELDS, GOOD, strict=True))
    values.update(change)
    return cast(Row, tuple(values[name] for name in FIELDS))


# For each rule: a row just past its limit and one at its limit, differing from GOOD in that
# rule's field only.
SAMPLES: dict[str, tuple[Row, Row]] = {
    # U+3000 is whitespace to Python; U+200B (zero width space) is not.
    "queue_vendor_id is blank": (row(queue_vendor_id=" \t\u3000"), row(queue_vendor_id="\u200b")),
    "interval_start is off the grid": (
        row(interval_start=GOOD[1] + td(microseconds=1)),
        row(interval_start=GOOD[1] + td(minutes=15)),
    ),
    "interval_start is too late": (row(interval_start=LATEST + td(minutes=15)), row(interval_start=LATEST)),
    "interval_start is too early": (
        row(interval_start=EARLIEST - td(minutes=15)),
        row(interval_start=EARLIEST),
    ),
    "entered is negative": (row(entered=-1), row(entered=0)),
    "entered is implausibly large": (row(entered=MAX_INT + 1), row(entered=MAX_INT)),
    "abandoned is negative": (row(abandoned=-1), row(abandoned=0)),
    "abandoned is implausibly large": (row(abandoned=MAX_INT + 1), row(abandoned=MAX_INT)),
    "handle_seconds is negative": (row(handle_seconds=-1), row(handle_seconds=0)),
    "handle_seconds is implausibly large": (
        row(handle_seconds=MAX_BIGINT + 1),
        row(handle_seconds=MAX_BIGINT),
    ),
}
NAMES = [rule.name for rule in RULES]


def python_path(connection, *rows: Row) -> None:
    upsert_intervals(connection, [IntervalRecord(*r) for r in rows], NOW)


def sql_path(connection, *rows: Row) -> None:
    with db.cursor() as cur:
        cur.execute(NAMED_STAGE_SQL)
        for r in rows:
            cur.execute(f"INSERT INTO {NAMED_TABLE} VALUES (%s, %s, %s, %s, %s)", list(r))
    merge_named_stage(connection, NOW)


def refusal(path, connection, bad: Row) -> str:
    with pytest.raises(DataError) as excinfo:
        path(connection, OTHER, bad)
    assert not IntervalVolume.objects.filter(connection=connection).exists()
    return str(excinfo.value)


def stored(connection) -> list[Row]:
    return sorted(
        IntervalVolume.objects.filter(connection=connection).values_list(
            "queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds"
        )
    )


def expected_message(name: str, bad: Row) -> str:
    rule = RULES[NAMES.index(name)]
    value = bad[FIELDS.index(rule.field)]
    return rule.message.format(vid=bad[0], start=bad[1].isoformat(), value=value)


def needs_postgres() -> None:
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the staged SQL check is PostgreSQL's path")


def test_every_rule_has_a_sample_past_and_at_its_limit():
    assert list(SAMPLES) == NAMES


def test_the_rules_are_listed_field_by_field_the_order_both_paths_report_them_in():
    fields = [rule.field for rule in RULES]
    assert fields == sorted(fields, key=FIELDS.index)


def test_the_sql_whitespace_is_exactly_what_python_strips():
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == WHITESPACE


@pytest.mark.parametrize("name", NAMES)
def test_a_vendor_record_past_a_rules_limit_is_refused_with_the_rules_message(conn_a, name):
    bad, _ = SAMPLES[name]
    assert refusal(python_path, conn_a, bad) == expected_message(name, bad)


@pytest.mark.parametrize("name", NAMES)
def test_a_vendor_record_at_a_rules_limit_is_stored(conn_a, name):
    _, edge = SAMPLES[name]
    python_path(conn_a, OTHER, edge)
    assert stored(conn_a) == sorted([OTHER, edge])


@pytest.mark.postgres
@pytest.mark.parametrize("name", NAMES)
def test_a_staged_total_past_a_rules_limit_is_refused_with_the_same_message(conn_a, conn_b, name):
    needs_postgres()
    bad, _ = SAMPLES[name]
    assert refusal(sql_path, conn_a, bad) == refusal(python_path, conn_b, bad) == expected_message(name, bad)


@pytest.mark.postgres
@pytest.mark.parametrize("name", NAMES)
def test_a_staged_total_at_a_rules_limit_is_stored_as_the_vendor_record_is(conn_a, conn_b, name):
    needs_postgres()
    _, edge = SAMPLES[name]
    sql_path(conn_a, OTHER, edge)
    python_path(conn_b, OTHER, edge)
    assert stored(conn_a) == stored(conn_b) == sorted([OTHER, edge])

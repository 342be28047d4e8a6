"""`manage.py prune`: per-table counts as text or JSON, a dry run, clear refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from datetime import timedelta as td
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from collectors.models import CollectionRun
from collectors.retention import POLICY_NAMES
from tests.collectors.healthkit import make_run, make_schedule

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def run(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("prune", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_runs(conn_a):
    make_schedule(conn_a, "agent_states")
    make_run(conn_a, "agent_states", CollectionRun.OK, NOW - td(minutes=1))
    for i in range(3):
        make_run(conn_a, "agent_states", CollectionRun.OK, NOW - td(days=5, minutes=i))


def test_json_gives_every_table_with_its_counts_and_a_total(old_runs):
    doc = json.loads(run("--json", "--batch-size", "2"))
    assert doc["dry_run"] is False and doc["deleted"] == 3
    assert [t["policy"] for t in doc["tables"]] == list(POLICY_NAMES)
    runs = doc["tables"][0]
    assert runs == {
        "policy": "runs",
        "table": "collectors.collectionrun",
        "deleted": 3,
        "batches": 2,
        "rules": {"ok": 0, "agent_state_polls_ok": 3, "failed": 0},
        "horizon": (NOW - td(hours=48)).isoformat().replace("+00:00", "Z"),
        "busy": False,
    }
    assert CollectionRun.objects.count() == 1


def test_a_dry_run_says_what_would_go_and_deletes_nothing(old_runs):
    text = run("--dry-run")
    assert "runs (collectors.collectionrun): would delete 3 in 1 batch(es) (agent_state_polls_ok 3)" in text
    assert "total: would delete 3" in text
    assert CollectionRun.objects.count() == 4
    doc = json.loads(run("--dry-run", "--json", "--only", "runs"))
    assert doc["dry_run"] is True and doc["deleted"] == 3 and len(doc["tables"]) == 1


def test_text_names_each_table_and_its_horizon(old_runs):
    text = run("--only", "runs,banners")
    assert (
        "runs (collectors.collectionrun): deleted 3 in 1 batch(es) (agent_state_polls_ok 3); horizon " in text
    )
    assert "banners (tokens.bannershown): deleted 0 in 0 batch(es)" in text
    assert text.strip().endswith("total: deleted 3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--batch-size", "0"), "--batch-size '0' must be at least 1"),
        (("--batch-size", "many"), "--batch-size 'many' is not a whole number"),
        (("--only", "runs,bogus"), "--only 'runs,bogus': unknown table"),
    ],
)
def test_a_bad_argument_is_refused_with_exit_status_2(args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("prune", *args, stdout=StringIO())
    assert info.value.returncode == 2


def test_a_bad_setting_is_refused_with_exit_status_2(settings):
    settings.RETENTION_BATCH_SIZE = "lots"
    with pytest.raises(CommandError, match="RETENTION_BATCH_SIZE='lots'") as info:
        call_command("prune", stdout=StringIO())
    assert info.value.returncode == 2

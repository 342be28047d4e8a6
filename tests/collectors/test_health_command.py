"""`manage.py health [--json]`: the table, and exit status 1 when anything is down."""

from __future__ import annotations

import json
from datetime import timedelta as td
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from collectors.models import CollectionSchedule
from tests.collectors.healthkit import T0, make_schedule, record

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("health", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


@pytest.fixture
def healthy(conn_a):
    for stream in ("agent_states", "config", "file_drop"):
        sched = make_schedule(conn_a, stream)
        record(sched, "ok", T0)
        CollectionSchedule.objects.filter(pk=sched.pk).update(status="ok", status_since=T0)
    return conn_a


@time_machine.travel(T0, tick=False)
def test_all_well_exits_zero_with_a_table(healthy):
    out, code = run()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["CONNECTION", "STREAM", "STATUS"]
    assert any(
        line.startswith("acme/tcn-main") and " agent-states " in line and " ok " in line for line in lines
    )


@time_machine.travel(T0, tick=False)
def test_a_stream_down_exits_one_and_says_why_in_json(healthy):
    sched = CollectionSchedule.objects.get(connection=healthy, stream="config")
    record(sched, "failed", T0, error="502 Bad Gateway")
    CollectionSchedule.objects.filter(pk=sched.pk).update(
        status="failing", status_reason="3 consecutive failures"
    )
    out, code = run("--json")
    assert code == 1
    data = json.loads(out)
    assert data["down"] == 1
    row = next(r for r in data["streams"] if r["stream"] == "config")
    assert row["status"] == "failing" and row["last_error"] == "TransientError: 502 Bad Gateway"
    assert row["tenant"] == "acme" and row["connection"] == "acme/tcn-main"
    assert next(r for r in data["streams"] if r["stream"] == "file-drop")["gaps_7d"] is not None


@time_machine.travel(T0 + td(hours=2), tick=False)
def test_evaluate_first_turns_stale_streams_late(healthy):
    out, code = run("--evaluate", "--json")
    assert code == 1
    statuses = {r["stream"]: r["status"] for r in json.loads(out)["streams"]}
    assert statuses["agent-states"] == "late"


def test_pause_and_resume_from_the_shell(healthy):
    out, code = run("--pause", "acme/tcn-main", "agent-states")
    assert code == 0 and out.strip().endswith("paused")
    assert not CollectionSchedule.objects.get(connection=healthy, stream="agent_states").enabled
    out, _ = run("--resume", "acme/tcn-main", "agent_states")
    assert out.strip().endswith("resumed")


def test_a_bad_argument_exits_two_with_one_clear_line(healthy):
    assert run("--pause", "acme/nope", "config")[1] == 2
    with pytest.raises(CommandError, match="unknown stream 'bogus'"):
        call_command("health", "--resume", "acme/tcn-main", "bogus")
    assert run("--tenant", "nope")[1] == 2

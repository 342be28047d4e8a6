"""`manage.py collect CONN STREAM [--start] [--end] [--json]`: one run now, through the same code."""

from __future__ import annotations

import json
from datetime import timedelta as td
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from collectors.management.commands.collect import Command
from collectors.models import CollectionRun, CollectionSchedule, Cursor, IntervalVolume
from integrations.vendors.errors import AuthError
from tests.collectors.enginekit import QUEUES, SECRET, T0, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=7)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def collect(*args):
    out = StringIO()
    call_command("collect", *args, stdout=out)
    return out.getvalue()


def test_it_collects_a_stream_and_prints_the_run_as_json(eight):
    data = json.loads(collect("acme/eight", "config", "--json"))
    assert data["status"] == "ok"
    assert data["stream"] == "config"
    assert data["rows_created"] == 6
    assert CollectionRun.objects.get().task_id == "manual:acme/eight:config"
    schedule = schedule_of(eight, "config")
    assert (schedule.status, schedule.lease_until) == ("ok", None)


def test_agent_states_by_hand(eight):
    assert "agent-states: ok, 1 created" in collect("acme/eight", "agent-states")


def test_the_underscore_spelling_is_accepted_and_json_prints_the_command_line_spelling(eight):
    data = json.loads(collect("acme/eight", "agent_states", "--json"))
    assert (data["stream"], data["status"]) == ("agent-states", "ok")


def test_an_explicit_window_backfills_exactly_that_window_and_leaves_a_gap_behind_the_cursor_alone(
    eight, fake
):
    collect("acme/eight", "volume")
    cursor = Cursor.objects.get(connection=eight).position
    data = json.loads(
        collect(
            "acme/eight",
            "volume",
            "--start",
            "2026-02-20T00:00:00Z",
            "--end",
            "2026-02-20T02:00:00Z",
            "--json",
        )
    )
    assert (data["window_start"], data["window_end"]) == ("2026-02-20T00:00:00Z", "2026-02-20T02:00:00Z")
    assert data["rows_created"] == 8 * len(QUEUES)
    assert fake.calls[-1][1:] == (T0.replace(month=2, day=20, hour=0), T0.replace(month=2, day=20, hour=2))
    assert Cursor.objects.get(connection=eight).position == cursor


def test_rerunning_an_explicit_window_changes_nothing(eight):
    args = ("acme/eight", "volume", "--start", "2026-03-02T10:00", "--end", "2026-03-02T11:00", "--json")
    collect(*args)
    before = list(IntervalVolume.objects.values())
    data = json.loads(collect(*args))
    assert (data["rows_created"], data["rows_updated"]) == (0, 0)
    assert list(IntervalVolume.objects.values()) == before


def test_a_failed_collection_exits_1_with_the_reason_and_no_secret(eight, fake):
    fake.error = AuthError(f"401 from vendor for token {SECRET}")
    with pytest.raises(CommandError) as excinfo:
        collect("acme/eight", "config")
    assert excinfo.value.returncode == 1
    assert "config collection failed: AuthError: 401 from vendor" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)
    assert schedule_of(eight, "config").status == "auth_failed"


def test_an_agent_state_poll_by_hand_holds_its_stream_for_its_time_limit_not_one_interval(eight, fake):
    # No Celery time limit ends a run by hand: the short lease of a dispatched poll (one
    # interval plus the grace) could lapse under it and let a second poll start.
    held = []
    fetch = fake.fetch_agent_states

    def fetch_and_look(now):
        held.append(schedule_of(eight, "agent_states").lease_until)
        return fetch(now)

    fake.fetch_agent_states = fetch_and_look
    collect("acme/eight", "agent-states")
    assert held == [NOW + td(seconds=90 + 60)]


def test_a_stream_already_running_is_not_run_again(eight):
    CollectionSchedule.objects.filter(connection=eight, stream="config").update(
        lease_until=NOW + td(minutes=5), lease_id="someone"
    )
    with pytest.raises(CommandError, match="in progress") as excinfo:
        collect("acme/eight", "config")
    assert excinfo.value.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("acme/nope", "config"), "no connection 'acme/nope'"),
        (("nonsense", "config"), "is not of the form tenant-slug/connection-name"),
        (("acme/eight", "calls"), "unknown stream 'calls'; use one of volume, agent-states, config"),
        (("acme/tcn-main", "volume"), "TCN connections have no volume stream"),
        (("acme/eight", "volume", "--start", "yesterday"), "--start 'yesterday' is not an ISO 8601 time"),
        (("acme/eight", "volume", "--start", "2026-03-02T10:05"), "is not on the 15-minute grid"),
        (
            ("acme/eight", "volume", "--start", "2026-03-02T10:00", "--end", "2026-03-02T09:00"),
            "--end must be after",
        ),
        (
            ("acme/eight", "volume", "--start", "2026-03-02T10:00", "--end", "2026-03-02T13:00"),
            "after the last closed",
        ),
        (("acme/eight", "config", "--start", "2026-03-02T10:00"), "apply to the volume stream only"),
        (("acme/eight", "volume", "--end", "2026-03-02T10:00"), "--end needs --start"),
        (
            ("acme/eight", "volume", "--start", "2026-03-03T10:00"),
            "--start 2026-03-03T10:00:00Z is in the future",
        ),
        (
            ("acme/eight", "volume", "--start", "2026-03-02T12:00"),
            "--start 2026-03-02T12:00:00Z is not before the end of the last closed interval",
        ),
    ],
)
def test_a_bad_argument_exits_2_with_one_clear_line(eight, conn_a, args, message):
    with pytest.raises(CommandError) as excinfo:
        collect(*args)
    assert excinfo.value.returncode == 2
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert not CollectionRun.objects.exists()


def test_from_the_shell_a_bad_argument_is_one_stderr_line_and_status_2(eight, capsys):
    with pytest.raises(SystemExit) as excinfo:
        Command().run_from_argv(["manage.py", "collect", "acme/eight", "calls"])
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "unknown stream 'calls'" in err

"""Every management command with `--json` speaks one JSON convention (docs/operating.md).

Each command runs as from the shell (`run_from_argv`, so argparse's own errors count too), once
succeeding and once failing. Success: stdout is one JSON document. Failure: the exit status is
the plain command's, stderr is one JSON object `{"error": ..., "code": <exit status>}`, and
stdout is empty or one JSON document. Anywhere in a document a connection is
`tenant-slug/connection-name`, a time ends in `Z`, and a stream is spelled as on the command line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
import time_machine
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from collectors.models import Queue
from collectors.schedules import sync_schedules
from integrations.models import VendorConnection
from tests.collectors.drops_helpers import calls
from tests.conftest import make_connection

# Commands close the database connections when they end, as from the shell: a transactional
# test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 3, 2, 12, 7, tzinfo=UTC)
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
CONNECTION_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*/[^/\s]+$")


def json_commands() -> set[str]:
    """Every command of the project's apps that declares a --json option."""
    found = set()
    for name, app in get_commands().items():
        if app.startswith("django") or app in {"staticfiles", "rest_framework"}:
            continue
        parser = load_command_class(app, name).create_parser("manage.py", name)
        if "--json" in parser_options(parser):
            found.add(name)
    return found


def parser_options(parser) -> set[str]:
    options = {o for action in parser._actions for o in action.option_strings}
    for action in parser._actions:
        if isinstance(action.choices, dict):  # subcommands: each has its own options
            for sub in action.choices.values():
                options |= parser_options(sub)
    return options


def shell(capsys, *argv: str) -> tuple[int, str, str]:
    """`manage.py ARGV...` as from the shell: exit status, stdout, stderr."""
    name = argv[0]
    command = load_command_class(get_commands()[name], name)
    code = 0
    try:
        command.run_from_argv(["manage.py", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def walk(doc: object, key: str | None = None) -> Iterator[tuple[str | None, object]]:
    yield key, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from walk(v, k)
    elif isinstance(doc, list):
        for v in doc:
            yield from walk(v, key)


def assert_convention(doc: object) -> None:
    for key, value in walk(doc):
        if isinstance(value, str) and ISO_TIME.match(value):
            assert value.endswith("Z"), f"{key}: {value!r} is not a UTC time ending in Z"
        if key == "connection" and value is not None:
            assert isinstance(value, str) and CONNECTION_KEY.match(value), f"connection {value!r}"
        if key == "stream" and value is not None:
            assert "_" not in str(value), f"stream {value!r} is not the command-line spelling"


def assert_success(result: tuple[int, str, str], code: int = 0) -> object:
    status, out, err = result
    assert status == code, err
    doc = json.loads(out)
    assert_convention(doc)
    return doc


def assert_error(result: tuple[int, str, str], code: int) -> dict:
    status, out, err = result
    assert status == code
    error = json.loads(err)
    assert isinstance(error, dict) and isinstance(error["error"], str) and error["error"]
    assert error["code"] == code
    if out.strip():
        assert_convention(json.loads(out))
    return error


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(conn_a, tenant_b) -> VendorConnection:
    sync_schedules(conn_a, timezone.now())
    Queue.objects.create(connection=conn_a, vendor_id="q1", name="Sales", first_seen=NOW, last_seen=NOW)
    return conn_a


@pytest.fixture
def demo_allowed(settings):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]


# (argv that succeeds, exit status), (argv that fails, exit status), fixtures each needs.
CASES = {
    "api_keys": ((("api_keys", "list", "acme", "--json"), 0), (("api_keys", "list", "nope", "--json"), 2)),
    "collect": (
        # No vendor answers (`responses` knows no URL): the run fails, its record is the document.
        (("collect", "acme/tcn-main", "config", "--json"), 1),
        (("collect", "acme/tcn-main", "calls", "--json"), 2),
    ),
    "export": ((("export", "queues", "--json"), 0), (("export", "calls", "--json"), 2)),
    "ftp_receiver": (None, (("ftp_receiver", "--port", "ftp", "--json"), 2)),
    "health": ((("health", "--json"), 0), (("health", "--tenant", "nope", "--json"), 2)),
    # Its success needs a drop folder: test_ingest_file_reports_its_connection_by_key below.
    "ingest_file": (None, (("ingest_file", "acme/nope", "/nonexistent.csv", "--json"), 2)),
    "prune": ((("prune", "--dry-run", "--json"), 0), (("prune", "--batch-size", "lots", "--json"), 2)),
    "rotate_encryption_keys": (
        (("rotate_encryption_keys", "--json"), 0),
        (("rotate_encryption_keys", "--batch-size", "many", "--json"), 2),
    ),
    "sandbox": (None, (("sandbox", "--port", "web", "--json"), 2)),
    "webhooks": ((("webhooks", "list", "--json"), 0), (("webhooks", "test", "acme/nope", "--json"), 2)),
    "token_alerts": (
        (("token_alerts", "--plan", "--json"), 0),
        (("token_alerts", "--today", "June 1st", "--json"), 2),
    ),
    "setup_demo": ((("setup_demo", "--json"), 0), (("setup_demo", "--sandbox-port", "x", "--json"), 2)),
    "connections": (
        (("connections", "export", "--json"), 0),
        (("connections", "test", "acme/nope", "--json"), 2),
    ),
    "check_services": ((("check_services", "--json"), 0), (("check_services", "--bogus", "--json"), 2)),
}
# ftp_receiver and sandbox serve until stopped: the line of JSON they print once listening is
# tested with them (test_ftp_tls, test_sandbox_command).


def test_every_command_with_json_is_in_this_test():
    assert json_commands() == set(CASES)


@pytest.mark.parametrize("name", sorted(name for name, (success, _) in CASES.items() if success))
@responses.activate
def test_success_is_one_json_document_in_the_convention(name, acme, demo_allowed, capsys):
    argv, code = CASES[name][0]
    assert_success(shell(capsys, *argv), code)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_error_under_json_is_a_json_object_with_the_exit_status(name, acme, capsys):
    argv, code = CASES[name][1]
    assert_error(shell(capsys, *argv), code)


def test_a_failed_run_prints_its_record_and_then_the_error_as_json(acme, capsys):
    with responses.RequestsMock():
        status, out, err = shell(capsys, "collect", "acme/tcn-main", "config", "--json")
    assert status == 1
    run = json.loads(out)
    assert (run["connection"], run["stream"], run["status"]) == ("acme/tcn-main", "config", "failed")
    assert run["started_at"] == "2026-03-02T12:07:00Z"
    assert json.loads(err)["error"].startswith("config collection failed")


def test_a_bad_argument_for_argparse_is_json_too_not_a_usage_text(acme, capsys):
    status, out, err = shell(capsys, "collect", "acme/tcn-main", "--json")
    assert status == 2 and out == ""
    error = json.loads(err)
    assert error == {"error": "the following arguments are required: stream", "code": 2}
    assert "usage:" not in err


def test_without_json_errors_stay_plain_text(acme, capsys):
    status, _, err = shell(capsys, "collect", "acme/tcn-main", "calls")
    assert status == 2 and err.startswith("CommandError: unknown stream 'calls'")


def test_health_lists_connections_by_key_streams_by_their_command_line_name_and_utc_times(acme, capsys):
    doc = assert_success(shell(capsys, "health", "--json"))
    rows = {row["stream"]: row for row in doc["streams"]}
    assert set(rows) == {"agent-states", "config", "file-drop"}
    assert {row["connection"] for row in rows.values()} == {"acme/tcn-main"}
    assert rows["config"]["next_run"].endswith("Z")


@pytest.mark.parametrize("spelling", ["agent-states", "agent_states"])
def test_health_pause_and_resume_honour_json_and_take_either_spelling(acme, capsys, spelling):
    paused = assert_success(shell(capsys, "health", "--pause", "acme/tcn-main", spelling, "--json"))
    assert paused == {
        "connection": "acme/tcn-main",
        "stream": "agent-states",
        "action": "pause",
        "changed": True,
        "enabled": False,
        "status": "paused",
    }
    again = assert_success(shell(capsys, "health", "--pause", "acme/tcn-main", spelling, "--json"))
    assert again["changed"] is False
    resumed = assert_success(shell(capsys, "health", "--resume", "acme/tcn-main", spelling, "--json"))
    assert (resumed["action"], resumed["changed"], resumed["enabled"]) == ("resume", True, True)


def test_an_unknown_stream_is_named_in_the_command_line_spelling(acme, capsys):
    error = assert_error(shell(capsys, "health", "--pause", "acme/tcn-main", "bogus", "--json"), 2)
    assert "agent-states" in error["error"] and "agent_states" not in error["error"]


def test_export_as_json_names_the_connection_by_its_key(acme, capsys):
    [queue] = assert_success(shell(capsys, "export", "queues", "--json"))
    assert (queue["tenant"], queue["connection"], queue["first_seen"]) == (
        "acme",
        "acme/tcn-main",
        "2026-03-02T12:07:00Z",
    )


def test_export_takes_either_spelling_of_a_stream(acme, capsys):
    assert assert_success(shell(capsys, "export", "agent_states", "--json")) == []


def test_ingest_file_reports_its_connection_by_key(tenant_a, settings, tmp_path, capsys):
    settings.DROP_ROOT = str(tmp_path)
    make_connection(tenant_a, "tcn", "tcn-drop", drop_folder="acme/tcn")
    path: Path = tmp_path / "manual.csv"
    path.write_bytes(calls("1,Sales,2026/03/02 09:02,120,ANSWERED"))
    report = assert_success(shell(capsys, "ingest_file", "acme/tcn-drop", str(path), "--json"))
    assert (report["connection"], report["status"]) == ("acme/tcn-drop", "ingested")

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
import requests
import time_machine
from django.core.management import CommandError, call_command

from integrations.management.commands.sandbox import Command

from .conftest import EIGHT_AUTH


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--zone", "Mars/Olympus"], "--zone"),
        (["--backfill-hours", "-2"], "--backfill-hours"),
        (["--token-lifetime", "0"], "--token-lifetime"),
    ],
)
def test_a_bad_argument_is_one_clear_error_with_status_2(args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        call_command("sandbox", *args)
    assert excinfo.value.returncode == 2


def test_an_uncreatable_drop_folder_is_a_bad_argument(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CommandError, match="--drop-folder") as excinfo:
        call_command("sandbox", "--port", "0", "--drop-folder", str(blocker / "sub"))
    assert excinfo.value.returncode == 2


def test_it_backfills_the_drop_serves_every_vendor_and_stops(tmp_path):
    command, out = Command(), io.StringIO()
    folder = tmp_path / "drops"
    with time_machine.travel(datetime(2025, 6, 11, 17, 7, tzinfo=UTC), tick=False):
        thread = threading.Thread(
            target=call_command,
            args=(command, "--port", "0", "--drop-folder", str(folder), "--backfill-hours", "1", "--json"),
            kwargs={"stdout": out},
        )
        thread.start()
        try:
            assert command.ready.wait(10)
            info = json.loads(out.getvalue())
            base = info["base_urls"]
            assert base["8x8"].endswith("/8x8/api/") and base["tcn"].endswith("/tcn/backoffice/")
            assert requests.get(base["8x8"] + "rtstats/stats/queues.json", auth=EIGHT_AUTH, timeout=5).ok
            assert requests.get(info["control"], timeout=5).json()["faults"]["tcn"] is None
        finally:
            command.stopped.set()
            thread.join(10)
    assert not thread.is_alive()
    # 16:07 to 17:07: the intervals at 16:15, 16:30 and 16:45 closed inside that hour.
    assert info["backfilled_files"] == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        "CallVolume_20250611_1615.csv",
        "CallVolume_20250611_1630.csv",
        "CallVolume_20250611_1645.csv",
    ]
    with pytest.raises(requests.ConnectionError):
        requests.get(base["8x8"] + "rtstats/stats/queues.json", auth=EIGHT_AUTH, timeout=2)

"""The vendor sandbox on a free port, and the demo tenant pointed at it.

`sandbox` serves all four simulated platforms from a thread for the whole module; its clock
is `timezone.now`, so it follows `time_machine` like the collectors do. `demo(at)` moves time
to `at`, points `setup_demo` at the sandbox with var/ (and so the TCN drop folder) in a tmp
directory, and hands back the clock to move between collections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.sandbox.server import SandboxServer
from integrations.sandbox.traffic import Traffic
from integrations.vendors.ncc.client import forget_all

# A Wednesday, 12:00 in Chicago (the sandbox tenant's zone): most agents on shift.
NOON = datetime(2025, 6, 11, 17, 0, tzinfo=UTC)


class Demo:
    """The simulated world of one test: the sandbox's traffic and the clock both sides read."""

    def __init__(self, traffic: Traffic, clock) -> None:
        self.traffic = traffic
        self._clock = clock

    def move_to(self, t: datetime) -> None:
        self._clock.move_to(t, tick=False)


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxServer("127.0.0.1", 0).start()
    yield server
    server.stop()


@pytest.fixture
def demo(sandbox, settings, tmp_path, time_machine, db) -> Iterator[Callable[[datetime], Demo]]:
    settings.VAR_DIR = tmp_path
    # The sandbox listens on loopback, which the egress policy refuses unless allowed.
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    settings.DROP_ROOT = str(tmp_path / "drops")
    # NCC tokens are cached per process and connection key; another test's sandbox run may
    # have left one behind.
    forget_all()

    def make(at: datetime) -> Demo:
        time_machine.move_to(at, tick=False)
        call_command("setup_demo", "--sandbox-port", str(sandbox.port), stdout=StringIO())
        return Demo(sandbox.traffic, time_machine)

    yield make
    forget_all()

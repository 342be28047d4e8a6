"""A sandbox server on a free port with a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import requests

from integrations.sandbox.server import SandboxServer
from integrations.sandbox.traffic import Traffic

# A Wednesday, 12:00 in Chicago: mid-day traffic, most agents on shift.
NOON = datetime(2025, 6, 11, 17, 0, tzinfo=UTC)
EIGHT_AUTH = ("demo", "sandbox-8x8-token")
TCN_AUTH = {"Authorization": "Bearer sandbox-tcn-token"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += td(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def sandbox(clock):
    server = SandboxServer("127.0.0.1", 0, clock=clock, token_lifetime=td(minutes=30)).start()
    yield server
    server.stop()


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def ncc_login(http, sandbox, brand: str = "nextiva", password: str | None = None) -> dict:
    password = password or f"sandbox-{brand}"
    response = http.get(sandbox.base_url(brand) + "provider/token-with-authorities", auth=("wfm", password))
    response.raise_for_status()
    return response.json()

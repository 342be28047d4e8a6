"""What a simulated platform declares, found through the vendor registry.

A vendor is served by the sandbox when its declaration names a `SandboxVendor` by dotted path
(`Vendor.sandbox_path`); the server, the traffic generator, the fault board, the settings and
the demo (`setup_demo`) all walk these declarations, so a new vendor's simulation is one
module and no table elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta as td
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from integrations.sandbox.faults import FaultBoard
    from integrations.sandbox.traffic import Roster, Traffic
    from integrations.sandbox.web import Request, Response

# Faults every HTTP platform honours; a platform may add its own (TCN's `missing_file`).
HTTP_FAULTS = ("500", "429", "slow", "invalid_token", "expired_token", "malformed")


class Platform(Protocol):
    def handle(self, request: Request) -> Response: ...


@dataclass(frozen=True)
class Credential:
    """A credential the sandbox accepts: the real-time connection field it goes in (for the
    demo), the SANDBOX_* setting that changes it, and its default."""

    field: str
    setting: str
    default: str


@dataclass(frozen=True)
class SandboxVendor:
    key: str
    # Where a connection's base URL points, below the server's root; its first segment is
    # the prefix the server routes on ("/8x8/api/" is served under "/8x8/").
    base_path: str
    # (traffic, faults, credentials by field, token lifetime) -> the platform's request handler.
    app: Callable[[Traffic, FaultBoard, dict[str, str], td], Platform]
    roster: Roster
    # How the platform shows each neutral activity of the traffic generator (its own codes).
    states: Mapping[str, object]
    # The neutral state each code means according to the vendor's documents (tests compare
    # the adapters' neutral rows with it; nothing is served from it).
    documented_neutral: Mapping[Any, str]
    credentials: tuple[Credential, ...] = ()
    faults: tuple[str, ...] = HTTP_FAULTS
    # The demo connection (`setup_demo`): how often it polls, when not the vendor's default,
    # and whether it carries the demo's soon-expiring access token.
    demo_interval_seconds: int | None = None
    demo_token: bool = False

    @property
    def prefix(self) -> str:
        return "/" + self.base_path.strip("/").split("/")[0]

    def credential_values(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """Field -> value: the defaults, or `overrides` keyed by setting name where given."""
        given = overrides or {}
        return {c.field: str(given.get(c.setting, c.default)) for c in self.credentials}


def sandbox_vendors() -> dict[str, SandboxVendor]:
    """Every registered vendor with a simulation, in registry order."""
    from integrations.vendors import all_vendors

    return {vendor.key: load(vendor.sandbox_path) for vendor in all_vendors() if vendor.sandbox_path}


def sandbox_vendor(key: str) -> SandboxVendor:
    from integrations.vendors import get_vendor

    try:
        path = get_vendor(key).sandbox_path
    except KeyError:
        path = ""
    if not path:
        raise KeyError(f"unknown sandbox vendor {key!r}")
    return load(path)


@cache
def load(path: str) -> SandboxVendor:
    from django.utils.module_loading import import_string

    return import_string(path)


class ByVendor(Mapping[str, Any]):
    """A read-only view {vendor key: one attribute of its SandboxVendor}, read on each lookup."""

    def __init__(self, pick: Callable[[SandboxVendor], Any]) -> None:
        self._pick = pick

    def __getitem__(self, key: str) -> Any:
        return self._pick(sandbox_vendor(key))

    def __iter__(self) -> Iterator[str]:
        return iter(sandbox_vendors())

    def __len__(self) -> int:
        return len(sandbox_vendors())

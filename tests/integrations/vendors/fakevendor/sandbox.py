"""Fakeline in the sandbox: its routes, roster and state codes, served from the shared traffic."""

from __future__ import annotations

import secrets
from datetime import datetime
from datetime import timedelta as td

from integrations.sandbox.faults import FaultBoard
from integrations.sandbox.traffic import (
    AVAILABLE,
    BREAK,
    BUSY,
    LOGGED_OUT,
    LOGIN,
    LUNCH,
    NO_ANSWER,
    OFFERED,
    OFFLINE,
    WRAP,
    Queue,
    Roster,
    Traffic,
    agents,
)
from integrations.sandbox.vendors import Credential, SandboxVendor
from integrations.sandbox.web import Request, Response, json_response, not_found

VENDOR = "fake"


class Fakeline:
    def __init__(self, traffic: Traffic, token: str, faults: FaultBoard) -> None:
        self.traffic = traffic
        self.token = token
        self.faults = faults

    def handle(self, request: Request) -> Response:
        scheme, _, given = request.header("Authorization").partition(" ")
        refused = self.faults.is_set(VENDOR, "invalid_token") or self.faults.is_set(VENDOR, "expired_token")
        if refused or scheme.lower() != "bearer" or not secrets.compare_digest(given, self.token):
            return json_response({"error": "unauthorized"}, 401)
        route = request.path.removeprefix("/api/").strip("/")
        if request.method != "GET" or route not in ("queues", "agents", "intervals"):
            return not_found(request.path)
        return getattr(self, route)(request)

    def queues(self, request: Request) -> Response:
        return json_response({"queues": [{"id": q.id, "name": q.name} for q in self.traffic.queues(VENDOR)]})

    def agents(self, request: Request) -> Response:
        rows = []
        for agent in self.traffic.agents(VENDOR):
            state = self.traffic.agent_state_at(VENDOR, agent.id, request.now)
            rows.append(
                {
                    "id": agent.id,
                    "name": agent.name,
                    "queues": list(agent.queue_ids),
                    "state": state.code,
                    "since": state.since.isoformat(),
                }
            )
        return json_response({"agents": rows})

    def intervals(self, request: Request) -> Response:
        start = datetime.fromisoformat(request.query["start"])
        end = datetime.fromisoformat(request.query["end"])
        rows = [
            {
                "queue": t.queue_id,
                "queue_name": t.queue_name,
                "start": t.interval_start.isoformat(),
                "entered": t.entered,
                "abandoned": t.abandoned,
                "handle": t.handle_seconds,
            }
            for t in self.traffic.interval_truth(VENDOR, start, end, as_of=request.now)
        ]
        return json_response({"intervals": rows})


_QUEUES = (Queue("q-sales", "Sales", 6.0), Queue("q-care", "Care", 9.0))


def _app(traffic: Traffic, faults: FaultBoard, creds: dict[str, str], _lifetime: td) -> Fakeline:
    return Fakeline(traffic, creds["token"], faults)


SANDBOX = SandboxVendor(
    key=VENDOR,
    base_path="/fake/api/",
    app=_app,
    roster=Roster(_QUEUES, agents(VENDOR, 6, _QUEUES, 4)),
    states={
        LOGIN: "ready",
        AVAILABLE: "ready",
        OFFERED: "ringing",
        BUSY: "talking",
        WRAP: "acw",
        NO_ANSWER: "ready",
        BREAK: "away",
        LUNCH: "away",
        OFFLINE: "admin",
        LOGGED_OUT: "offline",
    },
    documented_neutral={
        "ready": "available",
        "ringing": "offered",
        "talking": "busy",
        "acw": "wrap_up",
        "away": "break",
        "admin": "work_offline",
        "offline": "logged_out",
    },
    credentials=(Credential("token", "SANDBOX_FAKE_TOKEN", "sandbox-fake-token"),),
)

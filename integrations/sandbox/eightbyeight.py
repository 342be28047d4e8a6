"""8x8 Contact Center: the legacy Real Time Statistics and Statistics Reporting APIs.

Served under `/8x8/api/` (the seed's base URL is `https://vcc-na10b.8x8.com/api/`), HTTP Basic
with the tenant name and the data request token.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, time
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
    Call,
    Queue,
    Roster,
    Traffic,
    agents,
)
from integrations.sandbox.vendors import Credential, SandboxVendor
from integrations.sandbox.web import Request, Response, json_response, not_found, text_response

VENDOR = "8x8"
PAGE_SIZE = 50
MAX_DAYS = 31
# The vendor's docs: some interaction columns stay empty until about an hour after acceptance.
LAG = td(hours=1)
# A sandbox convention, not 8x8's: tenant `demo+N` is the `demo` account of another contact
# centre whose agents live the same roster shifted by a stable part of an hour, so a thousand
# simulated accounts (bench/e2e.py) do not all change state in the same second.
_VARIANT = re.compile(r"^(?P<tenant>[^+]*)(?:\+(?P<n>\d{1,6}))?$")
_GOLDEN = 0.6180339887498949


def variant_shift(n: int) -> td:
    """How far the agents of tenant `demo+N` live behind `demo`'s: spread over an hour."""
    return td(seconds=round((n * _GOLDEN) % 1.0 * 3600, 3))


_INTERACTIONS = re.compile(r"^/api/stats/queues/(?P<queue>[^/]+)/interactions\.json$")
_RELATIVE_DAY = re.compile(r"^today(?:-(?P<n>\d{1,3})d)?$")
_DAY = re.compile(r"^\d{8}$")


class EightByEight:
    def __init__(self, traffic: Traffic, tenant: str, token: str, faults: FaultBoard) -> None:
        self.traffic = traffic
        self.tenant = tenant
        self.token = token
        self.faults = faults

    def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return json_response({"error": "Method Not Allowed"}, 405)
        shift = self._account(request)
        if shift is None:
            # No hint as to which part was wrong, as the real service.
            return Response(
                401,
                b"<html><body><h1>401 Unauthorized</h1></body></html>",
                "text/html",
                {"WWW-Authenticate": 'Basic realm="8x8"'},
            )
        if request.path == "/api/rtstats/stats/agents.json":
            return self.agents(request.now, shift)
        if request.path == "/api/rtstats/stats/queues.json":
            return self.queues()
        match = _INTERACTIONS.match(request.path)
        if match:
            return self.interactions(match["queue"], request)
        return not_found(request.path)

    def _account(self, request: Request) -> td | None:
        """The shift of the account the credentials open (`demo+N`), or None when they open none."""
        if self.faults.is_set(VENDOR, "invalid_token") or self.faults.is_set(VENDOR, "expired_token"):
            return None
        given = request.basic_auth()
        if given is None:
            return None
        user, password = given
        match = _VARIANT.match(user)
        if match is None:
            return None
        # Both compared every time: no hint as to which part was wrong.
        tenant_ok = secrets.compare_digest(match["tenant"], self.tenant)
        if not tenant_ok & secrets.compare_digest(password, self.token):
            return None
        return variant_shift(int(match["n"])) if match["n"] else td(0)

    def agents(self, now: datetime, shift: td = td(0)) -> Response:
        rows = []
        for agent in self.traffic.agents(VENDOR):
            state = self.traffic.agent_state_at(VENDOR, agent.id, now - shift)
            rows.append(
                {
                    "agent-id": agent.id,
                    "agent-name": agent.name,
                    "group-id": int(agent.group),
                    "agent-status": state.code,
                    "time-in-status": int((now - shift - state.since).total_seconds()),
                }
            )
        return json_response({"agent": rows})

    def queues(self) -> Response:
        return json_response(
            {"queue": [{"queue-id": int(q.id), "queue-name": q.name} for q in self.traffic.queues(VENDOR)]}
        )

    def interactions(self, queue_id: str, request: Request) -> Response:
        if self.traffic.queue(VENDOR, queue_id) is None:
            return not_found(request.path)
        try:
            first, last = self._days(request.query.get("d", "today"), request.now)
            offset = int(request.query.get("n", "1"))
        except ValueError as exc:
            return text_response(f"Bad Request: {exc}", 400)
        if offset < 1:
            return text_response("Bad Request: n is a 1-based record offset", 400)
        tz = self.traffic.tz
        start = datetime.combine(first, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(last + td(days=1), time(), tzinfo=tz).astimezone(UTC)
        calls = [
            c
            for c in self.traffic.calls_between(VENDOR, queue_id, start, min(end, request.now))
            if c.ended_at <= request.now
        ]
        calls.sort(key=lambda c: (c.entered, c.call_id))
        page = calls[offset - 1 : offset - 1 + PAGE_SIZE]
        if not page:
            return json_response({"statistics": ""})
        return json_response({"statistics": {"statistic": [self._record(c, request.now) for c in page]}})

    def _days(self, value: str, now: datetime) -> tuple[date, date]:
        today = now.astimezone(self.traffic.tz).date()
        parts = value.split(",")
        if len(parts) > 2 or not all(parts):
            raise ValueError(f"d must be YYYYMMDD,YYYYMMDD or today[-Nd], not {value!r}")
        days = []
        for part in parts:
            relative = _RELATIVE_DAY.match(part)
            if relative:
                days.append(today - td(days=int(relative["n"] or 0)))
            elif _DAY.match(part):
                days.append(datetime.strptime(part, "%Y%m%d").date())
            else:
                raise ValueError(f"d must be YYYYMMDD,YYYYMMDD or today[-Nd], not {value!r}")
        first, last = days[0], days[-1]
        if last < first:
            raise ValueError(f"d range ends before it starts: {value!r}")
        if (last - first).days >= MAX_DAYS:
            raise ValueError(f"d range longer than {MAX_DAYS} days: {value!r}")
        return first, last

    @staticmethod
    def _record(call: Call, now: datetime) -> dict[str, str | int]:
        if call.abandoned:
            process, post = "0", "0"
        elif call.answered_at is not None and now - call.answered_at < LAG:
            process, post = "", ""
        else:
            process, post = str(call.talk_seconds), str(call.wrap_seconds)
        return {
            "transaction-id": call.call_id,
            "queue-id": call.queue_id,
            "time-entered": int(call.entered.timestamp() * 1000),
            "abandoned": "Y" if call.abandoned else "N",
            "processtime": process,
            "postprocess": post,
        }


_QUEUES = (Queue("103", "Appointments", 8.0), Queue("104", "Billing", 5.0), Queue("105", "Support", 12.0))

SANDBOX = SandboxVendor(
    key=VENDOR,
    base_path="/8x8/api/",
    app=lambda traffic, faults, creds, _lifetime: EightByEight(
        traffic, creds["tenant"], creds["token"], faults
    ),
    # Agent ids are logins; agents belong to group 126 or 127.
    roster=Roster(
        _QUEUES, agents(VENDOR, 12, _QUEUES, 0, ids=lambda i, login, _q: (login, str(126 + i % 2)))
    ),
    # rtstats agent-status codes (seed 001).
    states={
        LOGIN: 0,
        AVAILABLE: 0,
        OFFERED: 1,
        BUSY: 2,
        WRAP: 3,
        NO_ANSWER: 0,
        BREAK: 4,
        LUNCH: 4,
        OFFLINE: 5,
        LOGGED_OUT: 9,
    },
    documented_neutral={
        0: "available",
        1: "offered",
        2: "busy",
        3: "wrap_up",
        4: "break",
        5: "work_offline",
        9: "logged_out",
    },
    credentials=(
        Credential("tenant", "SANDBOX_8X8_TENANT", "demo"),
        Credential("token", "SANDBOX_8X8_TOKEN", "sandbox-8x8-token"),
    ),
)

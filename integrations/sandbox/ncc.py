"""Nextiva Contact Center / Thrio: one platform served under two brands (`/nextiva/`, `/thrio/`).

Login at `/{brand}/provider/token-with-authorities` (Basic) gives a token and a `location`, the
tenant cluster (`/{brand}/cluster` on this server); every further call goes there with the token
in `Authorization` (raw, or with `Bearer`). The WFM endpoints (`/wfm/api/...`) are the private
"Community WFM Integration" API the seeds describe: fields from the seeds, paths our own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
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
    SLOT,
    WRAP,
    Queue,
    Roster,
    Skill,
    Traffic,
    agents,
    hex_id,
)
from integrations.sandbox.vendors import Credential, SandboxVendor
from integrations.sandbox.web import Request, Response, json_response, not_found

MAX_ROWS = 100
MAX_RANGE = td(days=7)
# Larger than any Unix time in seconds before the year 5138: a start/end this big is milliseconds.
_MAX_SECONDS = 10**11
_TYPES = re.compile(r"^/cluster/data/api/types/(?P<type>[a-z]+)$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NCC:
    def __init__(
        self,
        brand: str,
        traffic: Traffic,
        login: str,
        password: str,
        faults: FaultBoard,
        token_lifetime: td = td(hours=1),
    ) -> None:
        self.brand = brand
        self.traffic = traffic
        self.login = login
        self.password = password
        self.faults = faults
        self.token_lifetime = token_lifetime
        # A fresh signing key per process: tokens do not survive a sandbox restart.
        self._key = secrets.token_bytes(32)

    # -- routing --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return json_response({"error": "Method Not Allowed"}, 405)
        if request.path == "/provider/token-with-authorities":
            return self.token(request)
        if not request.path.startswith("/cluster/"):
            return not_found(request.path)
        refusal = self._check_token(request)
        if refusal is not None:
            return refusal
        if request.path == "/cluster/wfm/api/agentstates":
            return self.agent_states(request.now)
        if request.path == "/cluster/wfm/api/queueintervals":
            return self.queue_intervals(request)
        match = _TYPES.match(request.path)
        if match:
            return self.objects(match["type"], request)
        return not_found(request.path)

    # -- auth -----------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        given = request.basic_auth()
        ok = given is not None and (
            secrets.compare_digest(given[0], self.login) & secrets.compare_digest(given[1], self.password)
        )
        if not ok or self.faults.is_set(self.brand, "invalid_token"):
            return json_response({"error": "Unauthorized", "message": "Bad credentials"}, 401)
        now = int(request.now.timestamp())
        claims = {
            "sub": self.login,
            "iss": self.brand,
            "iat": now,
            "exp": now + int(self.token_lifetime.total_seconds()),
            "gen": self.faults.generation,
            "jti": secrets.token_hex(8),
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return json_response(
            {"token": f"{head}.{body}.{signature}", "location": f"http://{request.host}/{self.brand}/cluster"}
        )

    def _check_token(self, request: Request) -> Response | None:
        value = request.header("Authorization").strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        claims = self._verify(value)
        if claims is None or self.faults.is_set(self.brand, "invalid_token"):
            return json_response({"error": "Unauthorized", "message": "Invalid token"}, 401)
        fault = self.faults.get(self.brand)
        revoked = fault is not None and fault.fault == "expired_token" and claims["gen"] < fault.generation
        if revoked or claims["exp"] <= request.now.timestamp():
            return json_response({"error": "Unauthorized", "message": "Token expired"}, 401)
        return None

    def _verify(self, token: str) -> dict | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = _b64(hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            return json.loads(_unb64(parts[1]))
        except ValueError:
            return None

    # -- data -----------------------------------------------------------------------------
    def objects(self, kind: str, request: Request) -> Response:
        roster = self.traffic.roster(self.brand)
        if kind == "user":
            items = [{"_id": a.id, "firstName": a.first_name, "lastName": a.last_name} for a in roster.agents]
        elif kind == "queue":
            items = [{"_id": q.id, "name": q.name} for q in roster.queues]
        elif kind == "skill":
            items = [{"_id": s.id, "name": s.name} for s in roster.skills]
        elif kind == "userqueue":
            items = [
                {"_id": hashlib.sha256(f"{a.id}|{q}".encode()).hexdigest()[:24], "userId": a.id, "queueId": q}
                for a in roster.agents
                for q in a.queue_ids
            ]
        else:
            return not_found(request.path)
        try:
            start = int(request.query.get("start", "0"))
            rows = int(request.query.get("rows", str(MAX_ROWS)))
        except ValueError:
            return json_response({"error": "Bad Request", "message": "start and rows must be integers"}, 400)
        if start < 0 or rows < 1:
            return json_response({"error": "Bad Request", "message": "start >= 0 and rows >= 1"}, 400)
        page = items[start : start + min(rows, MAX_ROWS)]
        return json_response({"count": len(page), "total": len(items), "objects": page})

    def agent_states(self, now: datetime) -> Response:
        rows = []
        for agent in self.traffic.agents(self.brand):
            state = self.traffic.agent_state_at(self.brand, agent.id, now)
            rows.append(
                {"agent-id": agent.id, "agent-status": state.code, "timestamp": int(state.since.timestamp())}
            )
        return json_response({"agents": rows})

    def queue_intervals(self, request: Request) -> Response:
        try:
            start, end = (self._unix(request.query, name) for name in ("start", "end"))
        except ValueError as exc:
            return json_response({"error": "Bad Request", "message": str(exc)}, 400)
        if end < start:
            return json_response({"error": "Bad Request", "message": "end is before start"}, 400)
        if end - start > MAX_RANGE:
            return json_response({"error": "Bad Request", "message": "range longer than 7 days"}, 400)
        # Only closed intervals: those that ended by `end` and by now.
        until = min(end, request.now)
        truth = [
            t
            for t in self.traffic.interval_truth(self.brand, start, until, as_of=request.now)
            if t.interval_start + SLOT <= until
        ]
        return json_response(
            {
                "intervals": [
                    {
                        "queueId": t.queue_id,
                        "queueName": t.queue_name,
                        "intervalStart": int(t.interval_start.timestamp()),
                        "sumHandleTime": t.handle_seconds,
                        "enteredCount": t.entered,
                        "abandonedCount": t.abandoned,
                    }
                    for t in truth
                ]
            }
        )

    @staticmethod
    def _unix(query: dict[str, str], name: str) -> datetime:
        raw = query.get(name, "")
        if not raw.lstrip("-").isdigit():
            raise ValueError(f"{name} must be Unix time in seconds, got {raw!r}")
        value = int(raw)
        if not 0 <= value < _MAX_SECONDS:
            raise ValueError(f"{name} must be Unix time in seconds, got {raw!r}")
        return datetime.fromtimestamp(value, UTC)


# Both brands show activities alike, and their documents say the same of each state.
_STATES = {
    LOGIN: "Logged in",
    AVAILABLE: "Available",
    OFFERED: "Available",
    BUSY: "Busy",
    WRAP: "Wrapup",
    NO_ANSWER: "No Answer",
    BREAK: "Lunch",  # the one custom state this tenant created
    LUNCH: "Lunch",
    OFFLINE: "Working",
    LOGGED_OUT: "Logged out",
}
_NEUTRAL = {
    "Available": "available",
    "Logged in": "available",
    "Busy": "busy",
    "Working": "busy",
    "Wrapup": "wrap_up",
    "Logged out": "logged_out",
    "No Answer": "other",
    "Lunch": "other",
}


def _roster(brand: str, names: tuple[tuple[str, float], ...], n: int, offset: int) -> Roster:
    queues = tuple(Queue(hex_id(brand, "queue", name), name, rate) for name, rate in names)
    skills = tuple(Skill(hex_id(brand, "skill", s), s) for s in ("English", "Spanish", "Tier 2"))
    return Roster(queues, agents(brand, n, queues, offset), skills)


def _brand(brand: str, roster: Roster, login_field: str, password: str) -> SandboxVendor:
    upper = brand.upper()
    return SandboxVendor(
        key=brand,
        base_path=f"/{brand}/",
        app=lambda traffic, faults, creds, lifetime: NCC(
            brand, traffic, creds[login_field], creds["password"], faults, lifetime
        ),
        roster=roster,
        states=_STATES,
        documented_neutral=_NEUTRAL,
        credentials=(
            Credential(login_field, f"SANDBOX_{upper}_LOGIN", "wfm"),
            Credential("password", f"SANDBOX_{upper}_PASSWORD", password),
        ),
    )


NEXTIVA = _brand(
    "nextiva",
    _roster("nextiva", (("Sales", 9.0), ("Service", 11.0), ("Billing", 5.0), ("Retention", 3.0)), 14, 3),
    "username",
    "sandbox-nextiva",
)
THRIO = _brand(
    "thrio",
    _roster("thrio", (("Inbound Sales", 6.0), ("Care", 9.0), ("Tech Support", 4.0)), 10, 9),
    "account",
    "sandbox-thrio",
)
